"""Creation ops: tensors from Python data, NumPy arrays, DLPack, or from nothing.

Python floats become the default float (float32) and Python ints the default int (int64), as in
PyTorch; NumPy arrays keep their dtype. A tensor owns its memory: ``constant`` and ``asarray``
copy host data, so later writes to the user's array never reach a tensor (or a gradient tape's
records). Sharing is explicit: ``asarray(a, copy=False)`` and ``from_dlpack`` share memory
with ``a``, and the user keeps ``a`` unchanged for as long as the tensor lives (issue #9).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _convert, _dtypes
from .._devices import device as get_device
from .._dispatch import as_tensor_arg, call
from .._dtypes import DType, as_dtype, default_complex, default_float, default_int
from .._errors import ArgumentTypeError, DTypeError, InvalidArgumentError, ShapeError
from .._registry import F, defjvp, defop, defvjp
from .._tensor import Tensor, new_tensor
from . import _rules as R
from ._define import helper, public
from ._grad_util import linear

_host_array = _convert.host_array
_from_host = _convert.from_host


@helper
def asarray(obj, /, *, dtype=None, device=None, copy=None) -> Tensor:
    """A tensor from a tensor, a Python scalar or (nested) sequence, a NumPy array or any
    object with ``__dlpack__``.

    A tensor owns its memory: by default (``copy=None``) host data is copied, so writing to
    ``obj`` later never changes the tensor. ``copy=False`` shares memory with a NumPy array
    (and raises if a copy is needed): the caller then keeps that array unchanged for as long as
    the tensor lives. Tensors are immutable, so a tensor ``obj`` is returned as is.

    >>> import eagerflow_core as ef
    >>> ef.asarray([1.0, 2.0])
    ef.Tensor([1., 2.], shape=(2,), dtype=float32, device='cpu:0')
    >>> ef.asarray([1, 2], dtype=ef.uint8).dtype
    ef.uint8
    """
    dt = None if dtype is None else as_dtype(dtype, "asarray")
    dev = None if device is None else get_device(device)
    if isinstance(obj, Tensor) or hasattr(obj, "_ef_tensor_"):
        t = as_tensor_arg(asarray_op, obj)
        if dev is not None and dev is not t._device:
            if copy is False:
                raise InvalidArgumentError("asarray: copy=False, but moving to another device copies")
            t = t.to(dev)
        if dt is not None and dt is not t._dtype:
            if copy is False:
                raise InvalidArgumentError("asarray: copy=False, but changing the dtype copies")
            t = astype(t, dt)
        return t  # tensors are immutable: sharing is always safe
    dev = dev or get_device(None)
    if hasattr(obj, "__dlpack__") and not isinstance(obj, (np.ndarray, np.generic)):
        t = from_dlpack(obj, device=dev)
        return t if dt is None else astype(t, dt)
    if isinstance(obj, str) or obj is None:
        raise ArgumentTypeError(f"asarray: cannot make a tensor from {type(obj).__name__}")
    host = _host_array(obj, dt)
    if copy is not False and isinstance(obj, np.ndarray) and np.may_share_memory(host, obj):
        host = host.copy()
    elif copy is False:
        # The standard: copy=False must raise wherever a copy is needed, which is always for
        # Python data, for a dtype change, and for a device that does not share host memory.
        if not isinstance(obj, np.ndarray):
            raise InvalidArgumentError(f"asarray: copy=False, but making a tensor from a "
                                       f"{type(obj).__name__} copies")
        if not np.may_share_memory(host, obj):
            raise InvalidArgumentError(f"asarray: copy=False, but converting {obj.dtype} to "
                                       f"{host.dtype} copies")
        if dev.backend.backend.dlpack_device_type != 1:
            raise InvalidArgumentError(f"asarray: copy=False, but moving host memory to {dev} "
                                       f"copies")
    return _from_host(host, dev)


@helper
def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None, *, device=None) -> Tensor:
    """``value`` as a tensor (TensorFlow's ``tf.convert_to_tensor``): a tensor or Variable as
    is (a ``dtype`` it does not have is an error, not a cast), Python data and NumPy arrays
    copied into a new tensor. ``dtype_hint`` is the dtype Python data takes when its values
    allow it (``[1, 2]`` with ``dtype_hint=ef.float32`` is float32).

    >>> import eagerflow_core as ef
    >>> ef.convert_to_tensor([1, 2], dtype_hint=ef.float32)
    ef.Tensor([1., 2.], shape=(2,), dtype=float32, device='cpu:0')
    """
    if isinstance(value, Tensor) or hasattr(value, "_ef_tensor_"):
        t = as_tensor_arg(asarray_op, value)
        if dtype is not None and as_dtype(dtype, "convert_to_tensor") is not t.dtype:
            raise DTypeError(f"convert_to_tensor: the tensor has dtype {t.dtype}, not "
                             f"{as_dtype(dtype)}; cast it with ef.cast")
        return t if device is None or get_device(device) is t.device else t.to(device)
    if dtype is not None:
        return asarray(value, dtype=dtype, device=device, copy=True)
    dev = get_device(device)
    if dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        return _convert.implicit(value, dev, as_dtype(dtype_hint, "convert_to_tensor"), "convert_to_tensor")
    return asarray(value, device=dev, copy=True)


@helper
def constant(value, dtype=None, shape=None, name=None, *, device=None) -> Tensor:
    """A tensor holding a copy of ``value`` (TensorFlow's ``tf.constant``).

    With ``shape``, a single value fills the shape and a value of matching size is reshaped.

    >>> import eagerflow_core as ef
    >>> ef.constant(0.5, shape=(2,))
    ef.Tensor([0.5, 0.5], shape=(2,), dtype=float32, device='cpu:0')
    """
    if isinstance(value, Tensor) or hasattr(value, "_ef_tensor_"):
        t = asarray(value, dtype=dtype, device=device)
    else:
        host = _host_array(value, None if dtype is None else as_dtype(dtype, "constant"), op="constant")
        if host.base is not None or isinstance(value, np.ndarray):
            host = host.copy()
        t = _from_host(host, get_device(device), op="constant")
    if shape is not None:
        shape = R.as_shape(shape, "constant")
        if t.size == 1:
            t = F.broadcast_to(F.reshape(t, ()), shape)
        elif t.size == _prod(shape):
            t = F.reshape(t, shape)
        else:
            raise ShapeError(f"constant: a value of {t.size} elements cannot fill shape {shape}")
    return t


tensor = constant


def _prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _fill_dtype(value) -> DType:
    if isinstance(value, Tensor):
        return value.dtype
    return _dtypes.scalar_dtype(value.item() if isinstance(value, np.generic) else value)


def _param_dtype(*dtypes, dtype=None, **params):
    return dtype


def _param_shape(*, shape, **params):
    return tuple(shape)


def _arange_shape(*, start, stop, step, **params):
    n = math.ceil((stop - start) / step) if not isinstance(start + stop + step, complex) else 0
    return (max(0, int(n)),)


def _linspace_shape(*, num, **params):
    return (num,)


def _eye_shape(*, n_rows, n_cols=None, **params):
    return (n_rows, n_rows if n_cols is None else n_cols)


def _asarray_shape(*, obj=None, **params):
    return tuple(np.shape(obj))


# -- from nothing ------------------------------------------------------------------------------
def _creation(name, shape_rule, **kw):
    return defop(name, family="creation", nin=0, dtype_rule=_param_dtype, shape_rule=shape_rule,
                 differentiable=False, **kw)


zeros_op = _creation("zeros", _param_shape)
ones_op = _creation("ones", _param_shape)
empty_op = _creation("empty", _param_shape)
full_op = _creation("full", _param_shape)
arange_op = _creation("arange", _arange_shape, posparams=("start",))
linspace_op = _creation("linspace", _linspace_shape, posparams=("start", "stop"))
eye_op = _creation("eye", _eye_shape, posparams=("n_rows", "n_cols"))
asarray_op = _creation("asarray", _asarray_shape,
                   doc="A tensor from Python data, a NumPy array or a DLPack object.")
asarray_op.fn = asarray


def _make(op, params, device, dtype, default):
    dt = default if dtype is None else as_dtype(dtype, op.name)
    params["dtype"] = dt
    return call(op, (), params, device=None if device is None else get_device(device))


@public(zeros_op, example="""
    >>> import eagerflow_core as ef
    >>> ef.zeros((2, 2), dtype=ef.int32)
    ef.Tensor([[0, 0],
               [0, 0]], shape=(2, 2), dtype=int32, device='cpu:0')
""")
def zeros(shape, *, dtype=None, device=None) -> Tensor:
    """A tensor of zeros."""
    return _make(zeros_op, {"shape": R.as_shape(shape, "zeros")}, device, dtype, default_float)


@public(ones_op)
def ones(shape, *, dtype=None, device=None) -> Tensor:
    """A tensor of ones.

    >>> import eagerflow_core as ef
    >>> ef.ones(3)
    ef.Tensor([1., 1., 1.], shape=(3,), dtype=float32, device='cpu:0')
    """
    return _make(ones_op, {"shape": R.as_shape(shape, "ones")}, device, dtype, default_float)


@public(empty_op)
def empty(shape, *, dtype=None, device=None) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held).

    >>> import eagerflow_core as ef
    >>> ef.empty((2, 3)).shape
    (2, 3)
    """
    return _make(empty_op, {"shape": R.as_shape(shape, "empty")}, device, dtype, default_float)


@public(full_op)
def full(shape, fill_value, *, dtype=None, device=None) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value unless given.

    >>> import eagerflow_core as ef
    >>> ef.full((2,), 7)
    ef.Tensor([7, 7], shape=(2,), dtype=int64, device='cpu:0')
    """
    if not isinstance(fill_value, Tensor) and hasattr(fill_value, "_ef_tensor_"):  # a Variable
        fill_value = fill_value._ef_tensor_()
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (bool, int, float, complex, np.generic)):
        raise ArgumentTypeError(f"full: fill_value must be a Python scalar, got {type(fill_value).__name__}")
    dt = _fill_dtype(fill_value) if dtype is None else as_dtype(dtype, "full")
    if isinstance(fill_value, int) and not isinstance(fill_value, bool) and dt.kind in "iu":
        info = np.iinfo(dt.numpy)
        if not info.min <= fill_value <= info.max:
            raise InvalidArgumentError(f"full: fill_value {fill_value} does not fit {dt}")
    return _make(full_op, {"shape": R.as_shape(shape, "full"), "fill_value": fill_value}, device, dt, dt)


@public(arange_op)
def arange(start, /, stop=None, step=1, *, dtype=None, device=None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; float arguments give the default float.

    >>> import eagerflow_core as ef
    >>> ef.arange(3)
    ef.Tensor([0, 1, 2], shape=(3,), dtype=int64, device='cpu:0')
    """
    if step == 0:
        raise InvalidArgumentError("arange: step must not be zero")
    args = [a for a in (start, stop, step) if a is not None]
    default = default_float if any(isinstance(a, float) for a in args) else default_int
    if stop is None:
        start, stop = 0, start
    return _make(arange_op, {"start": start, "stop": stop, "step": step}, device, dtype, default)


@public(linspace_op)
def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``.

    >>> import eagerflow_core as ef
    >>> ef.linspace(0, 1, 3)
    ef.Tensor([0. , 0.5, 1. ], shape=(3,), dtype=float32, device='cpu:0')
    """
    if not isinstance(num, int) or num < 0:
        raise InvalidArgumentError(f"linspace: num must be a non-negative int, got {num!r}")
    default = default_complex if isinstance(start, complex) or isinstance(stop, complex) else default_float
    return _make(linspace_op, {"start": start, "stop": stop, "num": num, "endpoint": endpoint},
                 device, dtype, default)


@public(eye_op)
def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None) -> Tensor:
    """A 2-D tensor with ones on diagonal ``k`` and zeros elsewhere.

    >>> import eagerflow_core as ef
    >>> ef.eye(2, dtype=ef.int8)
    ef.Tensor([[1, 0],
               [0, 1]], shape=(2, 2), dtype=int8, device='cpu:0')
    """
    for name, n in (("n_rows", n_rows), ("n_cols", n_cols)):
        if n is not None and (not isinstance(n, int) or n < 0):
            raise InvalidArgumentError(f"eye: {name} must be a non-negative int, got {n!r}")
    return _make(eye_op, {"n_rows": n_rows, "n_cols": n_cols, "k": k}, device, dtype, default_float)


def _like(fn, x, dtype, device, *extra):
    if not isinstance(x, Tensor):
        x = as_tensor_arg(fn.op, x, allow_scalar=False)
    return fn(x.shape, *extra, dtype=x.dtype if dtype is None else dtype,
              device=x.device if device is None else device)


@helper
def zeros_like(x, /, *, dtype=None, device=None) -> Tensor:
    """Zeros with the shape (and, unless given, the dtype and device) of ``x``."""
    return _like(zeros, x, dtype, device)


@helper
def ones_like(x, /, *, dtype=None, device=None) -> Tensor:
    """Ones with the shape (and, unless given, the dtype and device) of ``x``."""
    return _like(ones, x, dtype, device)


@helper
def empty_like(x, /, *, dtype=None, device=None) -> Tensor:
    """An uninitialised tensor shaped like ``x``."""
    return _like(empty, x, dtype, device)


@helper
def full_like(x, /, fill_value, *, dtype=None, device=None) -> Tensor:
    """``fill_value`` everywhere, shaped like ``x`` (and of its dtype unless given)."""
    return _like(full, x, dtype, device, fill_value)


# -- conversion --------------------------------------------------------------------------------
def _astype_rule(x, *, dtype, copy=True):
    if x.kind == "c" and dtype.kind != "c":
        raise DTypeError(f"casting {x} to {dtype} would drop the imaginary part; take "
                         f"ef.real(x) or ef.abs(x) first")
    return dtype


astype_op = defop("astype", family="creation", nin=1, dtype_rule=_astype_rule,
                  shape_rule=R.same_shape, posparams=("dtype",))


@public(astype_op)
def astype(x, dtype, /, *, copy=True, device=None) -> Tensor:
    """``x`` converted to ``dtype`` (and moved to ``device`` if given).

    >>> import eagerflow_core as ef
    >>> ef.astype(ef.constant([1.7, -1.7]), ef.int32)
    ef.Tensor([ 1, -1], shape=(2,), dtype=int32, device='cpu:0')
    """
    dt = as_dtype(dtype, "astype")
    if not isinstance(x, Tensor):
        x = as_tensor_arg(astype_op, x, allow_scalar=False)
    if device is not None:
        x = x.to(device)
    if dt is x.dtype and not copy:
        return x
    return call(astype_op, (x,), {"dtype": dt})


# The engines cast a (co)tangent to its tensor's dtype: the reverse rule only has to drop the
# imaginary part when a real tensor was cast to complex, and a cast to an integer dtype has
# no tangent (integers have no gradient).
def _astype_vjp(g, ans, x, *, dtype):
    return F.real(g) if g._dtype.kind == "c" and x._dtype.kind != "c" else g


defvjp(astype, _astype_vjp)
defjvp(astype, lambda t, ans, x, *, dtype: F.astype(t, dtype) if dtype.inexact else None)


@helper
def cast(x, dtype) -> Tensor:
    """TensorFlow's spelling of :func:`astype`."""
    return astype(x, dtype)


@helper
def from_dlpack(x, /, *, device=None, copy=None) -> Tensor:
    """A tensor sharing memory with any object that implements ``__dlpack__``.

    >>> import numpy as np, eagerflow_core as ef
    >>> ef.from_dlpack(np.arange(3.0))
    ef.Tensor([0., 1., 2.], shape=(3,), dtype=float64, device='cpu:0')
    """
    if isinstance(x, Tensor):  # already ours: no need to guess its backend from DLPack
        return x if device is None else x.to(device)
    if not hasattr(x, "__dlpack__"):
        raise ArgumentTypeError(f"from_dlpack: {type(x).__name__} has no __dlpack__ method")
    dl_type, dl_index = x.__dlpack_device__()
    from ..plugins import loader
    recs = [r for r in loader.by_device_type().values() if r.backend.dlpack_device_type == int(dl_type)]
    if not recs:
        raise InvalidArgumentError(f"from_dlpack: no installed backend takes DLPack device type "
                                   f"{int(dl_type)}; see ef.backends()")
    src = get_device(f"{recs[0].device_type}:{int(dl_index) if recs[0].device_type != 'cpu' else 0}")
    kern = src.kernels.get("from_dlpack")
    if kern is None:
        raise InvalidArgumentError(f"from_dlpack: backend {src.backend.name!r} has no from_dlpack kernel")
    raw = kern(x) if copy is None else kern(x, copy=copy)
    dt = src.backend.from_native.get(raw.dtype)
    if dt is None:
        raise DTypeError(f"from_dlpack: dtype {raw.dtype} has no eagerflow equivalent")
    t = new_tensor(raw, dt, src)
    return t if device is None else t.to(device)


# -- grids and triangles ----------------------------------------------------------------------
def _meshgrid_dtype(*dtypes, indexing="xy"):
    return dtypes[0] if dtypes else default_float  # the inputs are promoted to one dtype


def _meshgrid_shape(*shapes, indexing="xy"):
    sizes = [s[0] if s else 1 for s in shapes]
    if indexing == "xy" and len(sizes) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return [tuple(sizes)] * len(shapes)


# Not variadic: the kernel is called as the standard spells it, meshgrid(*arrays, indexing=).
meshgrid_op = defop("meshgrid", family="creation", dtype_rule=_meshgrid_dtype, promote=True,
                    shape_rule=_meshgrid_shape)


@public(meshgrid_op)
def meshgrid(*arrays, indexing="xy") -> list[Tensor]:
    """Coordinate grids from 1-D coordinate tensors, one grid per input.

    ``indexing="xy"`` (Cartesian, the default) gives grids of shape ``(len(y), len(x), ...)``
    for inputs ``x, y, ...``; ``"ij"`` (matrix) gives ``(len(x), len(y), ...)``. Mixed dtypes
    promote to their common dtype.

    >>> import eagerflow_core as ef
    >>> gx, gy = ef.meshgrid(ef.constant([1, 2, 3]), ef.constant([10, 20]))
    >>> gx
    ef.Tensor([[1, 2, 3],
               [1, 2, 3]], shape=(2, 3), dtype=int64, device='cpu:0')
    >>> gy.shape
    (2, 3)
    """
    if indexing not in ("xy", "ij"):
        raise InvalidArgumentError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    arrays = [a._ef_tensor_() if not isinstance(a, Tensor) and hasattr(a, "_ef_tensor_") else a
              for a in arrays]  # Variables: their values
    for i, a in enumerate(arrays):
        if isinstance(a, Tensor) and a.ndim != 1:
            raise ShapeError(f"meshgrid: every input must be 1-D; input {i} has shape {a.shape}")
    return list(call(meshgrid_op, arrays, {"indexing": indexing}))


def _grid_owner(i, n, indexing):
    """The axis of the grids that input ``i`` varies along (with "xy" the first two inputs
    own axes 1 and 0)."""
    return 1 - i if indexing == "xy" and n > 1 and i < 2 else i


def _meshgrid_vjp(g, ans, *xs, indexing="xy"):
    # Grid i repeats input i along every axis but its own: sum over those.
    gs = g if type(ans) is tuple else (g,)
    n = len(xs)
    return tuple(None if gi is None else
                 F.sum(gi, axis=tuple(a for a in range(n) if a != _grid_owner(i, n, indexing)))
                 for i, gi in enumerate(gs))


def _meshgrid_jvp(tangents, ans, *xs, indexing="xy"):
    # Grid i is input i broadcast along the other axes: so is its tangent.
    grids = ans if type(ans) is tuple else (ans,)
    n = len(xs)
    out = []
    for i, (t, grid) in enumerate(zip(tangents, grids)):
        if t is None:
            out.append(None)
            continue
        own = _grid_owner(i, n, indexing)
        shape = tuple(d if a == own else 1 for a, d in enumerate(grid.shape))
        out.append(F.broadcast_to(F.reshape(t, shape), grid.shape))
    return tuple(out)


defvjp(meshgrid, all_inputs=_meshgrid_vjp)
defjvp(meshgrid, all_inputs=_meshgrid_jvp)


def _triangle(op, x, k):
    if not isinstance(x, Tensor):
        x = as_tensor_arg(op, x, allow_scalar=False)
    if x.ndim < 2:
        raise ShapeError(f"{op.name}: needs a tensor of at least 2 dimensions (a stack of "
                         f"matrices), got shape {x.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ArgumentTypeError(f"{op.name}: k must be an int, got {type(k).__name__}")
    return call(op, (x,), {"k": int(k)})


tril_op = defop("tril", family="creation", dtype_rule=R.same_dtype, shape_rule=R.same_shape)
triu_op = defop("triu", family="creation", dtype_rule=R.same_dtype, shape_rule=R.same_shape)


@public(tril_op)
def tril(x, /, *, k=0) -> Tensor:
    """The lower triangle of each matrix of ``x`` (the last two axes): elements above
    diagonal ``k`` become zero (``k > 0`` keeps diagonals above the main one).

    >>> import eagerflow_core as ef
    >>> ef.tril(ef.ones((2, 3), dtype=ef.int32))
    ef.Tensor([[1, 0, 0],
               [1, 1, 0]], shape=(2, 3), dtype=int32, device='cpu:0')
    """
    return _triangle(tril_op, x, k)


@public(triu_op)
def triu(x, /, *, k=0) -> Tensor:
    """The upper triangle of each matrix of ``x`` (the last two axes): elements below
    diagonal ``k`` become zero (``k < 0`` keeps diagonals below the main one).

    >>> import eagerflow_core as ef
    >>> ef.triu(ef.ones((2, 3), dtype=ef.int32), k=1)
    ef.Tensor([[0, 1, 1],
               [0, 0, 1]], shape=(2, 3), dtype=int32, device='cpu:0')
    """
    return _triangle(triu_op, x, k)


# Linear maps that keep a triangle: each is its own adjoint.
defvjp(tril, lambda g, ans, x, *, k: tril(g, k=k))
defjvp(tril, linear(tril_op))
defvjp(triu, lambda g, ans, x, *, k: triu(g, k=k))
defjvp(triu, linear(triu_op))


__all__ = ["asarray", "convert_to_tensor", "constant", "tensor", "zeros", "ones", "empty", "full", "arange",
           "linspace", "eye", "zeros_like", "ones_like", "empty_like", "full_like", "astype",
           "cast", "from_dlpack", "meshgrid", "tril", "triu"]

