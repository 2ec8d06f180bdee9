"""What losses and metrics share: argument conversion, Keras' rank fix, weighting and reduction."""

from __future__ import annotations

from .._dispatch import describe
from .._dtypes import DType, as_dtype, float32
from .._errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .._tensor import Tensor
from ..ops._rules import broadcast_shapes
from ..ops.creation import asarray, astype
from ..ops.manipulation import broadcast_to, expand_dims, reshape, squeeze
from ..ops.searching import where
from ..ops.statistical import sum as ef_sum

#: Keras' ``backend.epsilon()``: probabilities are clipped to [EPSILON, 1 - EPSILON].
EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def as_tensor(x, who: str, what: str, *, dtype: DType | None = None, device=None) -> Tensor:
    """``x`` (a Tensor, a Variable, a NumPy array, a Python number or nested list) as a Tensor,
    cast to ``dtype`` if given; lists and arrays are made on ``device``."""
    if isinstance(x, Tensor):
        t = x
    elif hasattr(x, "_ef_tensor_"):
        t = x._ef_tensor_()
    elif x is None or isinstance(x, (str, bytes)):
        raise ArgumentTypeError(f"{who}: {what} must be a tensor, got {describe(x)}")
    else:
        t = asarray(x, device=device)
    return t if dtype is None or t.dtype is dtype else astype(t, dtype)


def float_pred(y_pred, who: str, dtype=None) -> Tensor:
    """``y_pred`` as a floating tensor: ``dtype`` if given, else its own float dtype, with
    integers and 16-bit floats computed in float32 (as Keras' float32 default does)."""
    y = as_tensor(y_pred, who, "y_pred")
    if dtype is not None:
        want = as_dtype(dtype)
    elif y.dtype.kind == "f" and y.dtype.name not in ("float16", "bfloat16"):
        want = y.dtype
    elif y.dtype.kind == "c":
        raise ArgumentTypeError(f"{who}: y_pred must be real, not {y.dtype}")
    else:
        want = float32
    return y if y.dtype is want else astype(y, want)


def squeeze_or_expand_to_same_rank(x1: Tensor, x2: Tensor, expand_rank_1=True):
    """Keras' rank fix: when the ranks differ by one and the longer shape ends in 1, drop that
    axis (or, for a 1-D partner, add it to the partner): ``(N,)`` and ``(N, 1)`` pair up."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = expand_dims(x2, axis=-1)
        else:
            x1 = squeeze(x1, axis=-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = expand_dims(x1, axis=-1)
        else:
            x2 = squeeze(x2, axis=-1)
    return x1, x2


def same_shape(who: str, y_true: Tensor, y_pred: Tensor) -> None:
    if y_true.shape != y_pred.shape:
        raise ShapeError(f"{who}: y_true of shape {y_true.shape} and y_pred of shape "
                         f"{y_pred.shape} must have the same shape")


def check_reduction(reduction, who: str):
    if reduction not in REDUCTIONS:
        raise InvalidArgumentError(f"{who}: reduction={reduction!r} is not one of "
                                   f"{', '.join(repr(r) for r in REDUCTIONS)}")
    return reduction


def divide_no_nan(a: Tensor, b: Tensor) -> Tensor:
    """``a / b``, and 0 where ``b`` is 0."""
    nonzero = b != 0
    return where(nonzero, a / where(nonzero, b, 1), 0)


def weights_like(values: Tensor, weights: Tensor, who: str) -> tuple[Tensor, Tensor]:
    """``(values, weights)`` shaped to multiply: Keras' rank fix, then leading axes aligned
    (a weight per example scales all of that example's losses, TensorFlow's rule), then the
    usual broadcasting; anything else is a ShapeError naming both shapes."""
    values, weights = squeeze_or_expand_to_same_rank(values, weights)
    if weights.ndim < values.ndim and weights.shape == values.shape[:weights.ndim]:
        weights = reshape(weights, weights.shape + (1,) * (values.ndim - weights.ndim))
    check_weights_fit(weights.shape, values.shape, who)
    return values, weights


def check_weights_fit(weights_shape, values_shape, who: str) -> None:
    """ShapeError unless weights of ``weights_shape`` broadcast to ``values_shape``."""
    try:
        ok = broadcast_shapes(values_shape, weights_shape) == tuple(values_shape)
    except ShapeError:
        ok = False
    if not ok:
        raise ShapeError(f"{who}: sample_weight of shape {weights_shape} does not fit the "
                         f"per-example values of shape {values_shape}")


def reduce_weighted(values: Tensor, sample_weight, reduction, who: str, mask=None) -> Tensor:
    """Keras' ``reduce_weighted_values``: weight by ``sample_weight`` (and a validity ``mask``,
    which makes the mean one over the valid entries), then reduce."""
    weight = None
    if mask is not None:
        weight = astype(mask, values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            weight = weight * divide_no_nan(asarray(float(weight.size), dtype=values.dtype,
                                                    device=values.device), ef_sum(weight))
    if sample_weight is not None:
        sw = as_tensor(sample_weight, who, "sample_weight", dtype=values.dtype,
                       device=values.device)
        if weight is not None:
            weight, sw = weights_like(weight, sw, who)
            sw = sw * weight
        weight = sw
    if weight is not None:
        values, weight = weights_like(values, weight, who)
        values = values * weight
    return reduce_values(values, weight, reduction)


def reduce_values(values: Tensor, sample_weight, reduction) -> Tensor:
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    total = ef_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(total, ef_sum(broadcast_to(sample_weight, values.shape)))
    n = values.size
    return total / n if n else total  # an empty batch sums to 0
