"""The path of one op call: from a public function to a backend kernel and back.

    1. normalise arguments    Python scalars stay weak (they take the tensor's dtype)
    2. resolve the device     all tensor inputs on one device, else DeviceError
    3. result dtype           the op's dtype rule (a dict lookup for elementwise ops)
    4. find the kernel        the device's kernel table: a dict lookup
    5. run the kernel         raw arrays in, raw arrays out
    6. wrap                   Tensor(raw, dtype, device): the values are ready
    7. record                 only while a gradient tape is active

The elementwise fast paths (``call_unary``, ``call_binary``) are what makes small eager ops
cheap: a few dict lookups and one kernel call. Shape rules do not run on this path; they run
when a kernel fails, to turn the backend's complaint into a clear error that names the op, the
shapes, dtypes and devices (see ``_failure``).
"""

from __future__ import annotations

import threading

from . import _dtypes
from ._devices import default_device
from ._dtypes import DType, weak_promote
from ._errors import (ArgumentTypeError, DeviceError, DTypeError, EagerflowError,
                      InvalidArgumentError, KernelNotFoundError, error_class_for)
from ._tensor import Tensor, new_tensor

_SCALARS = (bool, int, float, complex)
_NO_PARAMS: dict = {}
# Weak promotion of (tensor dtype, Python scalar type), precomputed for the fast path.
_WEAK = {(d, t): weak_promote(d, t()) for d in _dtypes.ALL_DTYPES for t in _SCALARS}
_INT_BOUNDS = {d: (int(_dtypes.np.iinfo(d.numpy).min), int(_dtypes.np.iinfo(d.numpy).max))
               for d in _dtypes.ALL_DTYPES if d.kind in "iu"}


class _State(threading.local):
    tapes = ()  # active gradient tapes of this thread; the autodiff module fills it


state = _State()
_tensor_module = __import__("eagerflow_core._tensor", fromlist=["_dispatch_state"])
_tensor_module._dispatch_state = state
#: Set by the autodiff module: ``record(op, inputs, params, outputs)``.
record_hook = None


# -- describing arguments for error messages ------------------------------------------------

def describe(x) -> str:
    if isinstance(x, Tensor):
        return f"{x._dtype.name}{list(x.shape)} on {x._device}"
    if x is None:
        return "None"
    if isinstance(x, _SCALARS):
        return f"Python {type(x).__name__} {x!r}"
    return f"{type(x).__module__}.{type(x).__qualname__}"


def _describe_all(args) -> str:
    return ", ".join(describe(a) for a in args)


def op_error(op, cls, message, args=()):
    """An eagerflow error of class ``cls`` whose message starts with the op name."""
    where = f" (got {_describe_all(args)})" if args else ""
    return cls(f"{op.name}: {message}{where}")


# -- conversions -----------------------------------------------------------------------------

def as_tensor_arg(op, x, allow_scalar=True) -> Tensor:
    """The slow path for an argument that is not exactly a Tensor."""
    if isinstance(x, Tensor):  # subclasses such as Variable
        return x
    if hasattr(x, "_ef_tensor_"):  # objects that stand for a tensor (Variable)
        return x._ef_tensor_()
    if allow_scalar and isinstance(x, _SCALARS + (_dtypes.np.generic,)):
        from .ops.creation import asarray
        return asarray(x.item() if isinstance(x, _dtypes.np.generic) else x)
    hint = "wrap it with ef.asarray(...)" if isinstance(x, (list, tuple, _dtypes.np.ndarray)) else \
        "pass an eagerflow Tensor"
    raise ArgumentTypeError(f"{op.name}: expected a Tensor, got {describe(x)}; {hint}")


def cast_raw(dev, raw, dtype: DType):
    """``raw`` converted to ``dtype`` on ``dev`` (the backend's astype kernel)."""
    native = dev.native.get(dtype)
    if native is None:
        raise DTypeError(f"backend {dev.backend.name!r} has no {dtype} dtype; supported: "
                         + ", ".join(d.name for d in dev.native))
    return dev.kernels["astype"](raw, native)


def wrap(raw, dtype: DType, dev) -> Tensor:
    """Wrap a kernel result, enforcing the dtype the core decided.

    (``call_unary`` and ``call_binary`` inline this: it is their last step on every call.)
    """
    if type(raw) is not dev.array_type:
        raw = dev.coerce(raw)
    native = dev.native[dtype]
    have = raw.dtype
    if have is not native and have != native:
        raw = dev.kernels["astype"](raw, native)
    t = object.__new__(Tensor)
    t._data = raw
    t._dtype = dtype
    t._device = dev
    t._tid = 0
    return t


def _fallback(op, dev, inputs, params=_NO_PARAMS, variadic=False):
    """No kernel on ``dev``: raise, or run on the fallback device, per the policy (_fallback.py)."""
    from . import _fallback as fb
    how = fb.policy()
    tensors = [a for a in (inputs[0] if variadic else inputs) if isinstance(a, Tensor)]
    if how == "error":
        raise _missing(op, dev, tensors)
    target = fb.fallback_device()
    if target is dev or op.name not in target.kernels:
        raise _missing(op, dev, tensors)
    from .ops.transfer import to_device

    def move(x, d):
        return to_device(x, d) if isinstance(x, Tensor) else x
    moved = [move(x, target) for x in (inputs[0] if variadic else inputs)]
    if op.kind == "unary":
        out = call_unary(op, moved[0])
    elif op.kind == "binary":
        out = call_binary(op, moved[0], moved[1])
    else:
        out = call(op, moved if variadic else tuple(moved), params,
                   device=None if tensors else target)
    fb.note(op, dev, target, how)
    if isinstance(out, tuple):
        return type(out)(*[move(o, dev) for o in out]) if hasattr(out, "_fields") else \
            tuple(move(o, dev) for o in out)
    if isinstance(out, list):
        return [move(o, dev) for o in out]
    return move(out, dev)


def _missing(op, dev, args):
    return op_error(op, KernelNotFoundError,
                    f"backend {dev.backend.name!r} (device {dev}) has no kernel for this op; "
                    f"move the inputs with .to(...) to a device whose backend has it "
                    f"(`eagerflow info` lists op coverage per backend), or allow a visible "
                    f"fallback with EAGERFLOW_FALLBACK=warn", args)


def _failure(op, exc, args, params, dev):
    """Turn a kernel's exception into a clear eagerflow error."""
    if isinstance(exc, EagerflowError):
        return exc
    tensors = [a for a in args if isinstance(a, Tensor)]
    if op.shape_rule is not None:
        shapes = [a.shape if isinstance(a, Tensor) else () for a in args]
        try:
            if op.variadic:
                op.shape_rule(shapes, **params)
            else:
                op.shape_rule(*shapes, **params)
        except EagerflowError as clear:
            return op_error(op, type(clear), str(clear), tensors)
        except Exception:  # a shape rule that cannot judge these params: fall through
            pass
    cls = error_class_for(exc)
    return op_error(op, cls, f"the {dev.backend.name!r} kernel raised {type(exc).__name__}: {exc}",
                    tensors)


def _device_mismatch(op, args):
    devs = sorted({str(a._device) for a in args if isinstance(a, Tensor)})
    return op_error(op, DeviceError,
                    f"inputs are on different devices ({', '.join(devs)}); eagerflow never moves "
                    f"data silently: move them to one device with x.to('{devs[0]}')", args)


def _dtype_refused(op, dtype, args):
    return op_error(op, DTypeError, f"expects {op.accepts} input, not {dtype}", args)


def _check_int_scalar(op, dtype, value, args):
    lo, hi = _INT_BOUNDS[dtype]
    if not lo <= value <= hi:
        raise op_error(op, InvalidArgumentError,
                       f"the Python int {value} does not fit {dtype} (range {lo}..{hi}); "
                       f"cast the tensor first with ef.astype", args)


# -- the fast paths ----------------------------------------------------------------------------

def call_unary(op, x):
    if type(x) is not Tensor:
        x = as_tensor_arg(op, x)
    pair = op.table.get(x._dtype)
    if pair is None:
        raise _dtype_refused(op, x._dtype, (x,))
    dev = x._device
    kern = dev.kernels.get(op.name)
    if kern is None:
        return _fallback(op, dev, (x,))
    data = x._data
    if pair[0] is not x._dtype:
        data = cast_raw(dev, data, pair[0])
    try:
        raw = kern(data)
    except Exception as exc:
        raise _failure(op, exc, (x,), {}, dev) from None
    # wrap(), inlined
    if type(raw) is not dev.array_type:
        raw = dev.coerce(raw)
    dt = pair[1]
    native = dev.native[dt]
    if raw.dtype is not native and raw.dtype != native:
        raw = dev.kernels["astype"](raw, native)
    out = object.__new__(Tensor)
    out._data = raw
    out._dtype = dt
    out._device = dev
    out._tid = 0
    if state.tapes:
        record_hook(op, (x,), {}, out)
    return out


def call_binary(op, a, b):
    ta, tb = type(a), type(b)
    if ta is Tensor and tb is Tensor:
        dev = a._device
        if b._device is not dev:
            raise _device_mismatch(op, (a, b))
        da, db = a._dtype, b._dtype
        xa, xb = a._data, b._data
        if da is db:
            dt = da
        else:
            dt = _dtypes._PROMOTION.get((da, db))
            if dt is None:
                raise op_error(op, DTypeError, f"no common dtype for {da} and {db}; cast one "
                               f"with ef.astype first", (a, b))
            if da is not dt:
                xa = cast_raw(dev, xa, dt)
            if db is not dt:
                xb = cast_raw(dev, xb, dt)
    elif ta is Tensor and tb in _SCALARS:
        dev, xa, xb = a._device, a._data, b
        dt = _WEAK[a._dtype, tb]
        if dt is not a._dtype:
            xa = cast_raw(dev, xa, dt)
    elif tb is Tensor and ta in _SCALARS:
        dev, xa, xb = b._device, a, b._data
        dt = _WEAK[b._dtype, ta]
        if dt is not b._dtype:
            xb = cast_raw(dev, xb, dt)
    else:
        return _binary_slow(op, a, b)
    pair = op.table.get(dt)
    if pair is None:
        raise _dtype_refused(op, dt, (a, b))
    kern = dev.kernels.get(op.name)
    if kern is None:
        return _fallback(op, dev, (a, b))
    if pair[0] is not dt:
        if type(xa) not in _SCALARS:
            xa = cast_raw(dev, xa, pair[0])
        if type(xb) not in _SCALARS:
            xb = cast_raw(dev, xb, pair[0])
    # A Python int must fit the dtype the kernel computes in (int8 / 1000 computes in float32).
    if (ta is int or tb is int) and pair[0].kind in "iu":
        _check_int_scalar(op, pair[0], a if ta is int else b, (a, b))
    try:
        raw = kern(xa, xb)
    except Exception as exc:
        raise _failure(op, exc, (a, b), {}, dev) from None
    # wrap(), inlined
    if type(raw) is not dev.array_type:
        raw = dev.coerce(raw)
    dt = pair[1]
    native = dev.native[dt]
    if raw.dtype is not native and raw.dtype != native:
        raw = dev.kernels["astype"](raw, native)
    out = object.__new__(Tensor)
    out._data = raw
    out._dtype = dt
    out._device = dev
    out._tid = 0
    if state.tapes:
        record_hook(op, (a, b), {}, out)
    return out


def call_reduce(op, x, axis, keepdims, result_dtypes):
    """Reductions of one plain tensor whose result dtype depends only on the input dtype:
    ``result_dtypes[x.dtype]``, passed to the kernel as ``dtype=`` (the accumulation dtype, so
    no backend sums int8 values in int8). Anything unusual goes through :func:`call`."""
    out_dt = result_dtypes.get(x._dtype) if type(x) is Tensor else None
    dev = x._device if out_dt is not None else None
    kern = dev.kernels.get(op.name) if dev is not None else None
    native = dev.native.get(out_dt) if kern is not None else None
    if native is None:  # no kernel, or no accumulation dtype: the general path says so clearly
        return call(op, (x,), {"axis": axis, "dtype": out_dt, "keepdims": keepdims})
    try:
        raw = kern(x._data, axis=axis, dtype=native, keepdims=keepdims)
    except Exception as exc:
        raise _failure(op, exc, (x,), {"axis": axis, "keepdims": keepdims}, dev) from None
    out = wrap(raw, out_dt, dev)
    if state.tapes:
        record_hook(op, (x,), {"axis": axis, "dtype": out_dt, "keepdims": keepdims}, out)
    return out


def call_pair(op, a, b):
    """Two plain tensors of one dtype on one device, an op without params (matmul): the
    dtype rule's answer is cached per dtype, so this path is a few lookups and the kernel."""
    if type(a) is Tensor and type(b) is Tensor:
        dev = a._device
        dt = a._dtype
        out_dt = op.rule_cache.get(dt)
        if out_dt is not None and b._device is dev and b._dtype is dt:
            kern = dev.kernels.get(op.name)
            if kern is not None:
                try:
                    raw = kern(a._data, b._data)
                except Exception as exc:
                    raise _failure(op, exc, (a, b), {}, dev) from None
                out = wrap(raw, out_dt, dev)
                if state.tapes:
                    record_hook(op, (a, b), _NO_PARAMS, out)
                return out
    return call(op, (a, b))


def _binary_slow(op, a, b):
    """Variables, NumPy scalars and Python scalars on both sides go through here."""
    if isinstance(a, _dtypes.np.generic):
        a = a.item()
    if isinstance(b, _dtypes.np.generic):
        b = b.item()
    if type(a) in _SCALARS and type(b) in _SCALARS:
        a = as_tensor_arg(op, a)
    if not (isinstance(a, Tensor) or type(a) in _SCALARS):
        a = as_tensor_arg(op, a, allow_scalar=False)
    if not (isinstance(b, Tensor) or type(b) in _SCALARS):
        b = as_tensor_arg(op, b, allow_scalar=False)
    if type(a) is not Tensor and isinstance(a, Tensor):
        a = _plain(a)
    if type(b) is not Tensor and isinstance(b, Tensor):
        b = _plain(b)
    return call_binary(op, a, b)


def _plain(t: Tensor) -> Tensor:
    """A Tensor subclass instance seen as a plain Tensor (same identity for autodiff)."""
    return t if type(t) is Tensor else getattr(t, "_ef_tensor_", lambda: t)()


# -- the general path --------------------------------------------------------------------------

def call(op, inputs=(), params=_NO_PARAMS, device=None):
    """Run a general op: ``inputs`` are the tensor arguments (a sequence for variadic ops),
    ``params`` the static keyword parameters of the kernel, ``device`` for creation ops."""
    # Fast path: plain tensors, one device, one dtype (no promotion, no conversion).
    if inputs and not op.variadic and type(inputs[0]) is Tensor:
        dev = inputs[0]._device
        dt = inputs[0]._dtype
        for t in inputs:
            if type(t) is not Tensor or t._device is not dev or t._dtype is not dt:
                break
        else:
            if device is None or device is dev:
                return _call_uniform(op, inputs, params, dev, dt)
    return _call_general(op, inputs, params, device)


def _call_uniform(op, inputs, params, dev, dt):
    try:
        out_dtype = op.dtype_rule(*[dt] * len(inputs), **params)
    except EagerflowError as exc:
        raise _prefixed(op, exc, inputs) from None
    if not params and len(inputs) == 2:
        op.rule_cache[dt] = out_dtype  # read by call_pair
    kern = dev.kernels.get(op.name)
    if kern is None:
        return _fallback(op, dev, inputs, params)
    raws = [t._data for t in inputs]
    if params:
        kparams = params
        if params.get("dtype") is not None:
            kparams = _native_dtype_param(op, dev, params)
        if op.posparams:
            kparams = dict(kparams)
            raws += [kparams.pop(name) for name in op.posparams]
        try:
            raw = kern(*raws, **kparams)
        except Exception as exc:
            raise _failure(op, exc, inputs, params, dev) from None
    else:
        try:
            raw = kern(*raws)
        except Exception as exc:
            raise _failure(op, exc, inputs, params, dev) from None
    if isinstance(raw, (tuple, list)):  # namedtuples too (NumPy's EighResult...)
        dts = out_dtype if type(out_dtype) is tuple else (out_dtype,) * len(raw)
        out = tuple(wrap(r, d, dev) for r, d in zip(raw, dts))
    else:
        out = wrap(raw, out_dtype, dev)
    if state.tapes:
        record_hook(op, tuple(inputs), params, out)
    return out


def _prefixed(op, exc, args):
    if str(exc).startswith(op.name + ":"):
        return exc
    return op_error(op, type(exc), str(exc), [a for a in args if isinstance(a, Tensor)])


def _native_dtype_param(op, dev, params):
    kparams = dict(params)
    kparams["dtype"] = dev.native.get(params["dtype"])
    if kparams["dtype"] is None:
        raise op_error(op, DTypeError, f"backend {dev.backend.name!r} has no {params['dtype']}")
    return kparams


def _call_general(op, inputs, params, device):
    args = list(inputs)
    tensors = []
    for i, x in enumerate(args):
        if type(x) is Tensor:
            tensors.append(x)
        elif x is None:
            continue
        elif isinstance(x, Tensor) or hasattr(x, "_ef_tensor_"):
            args[i] = x = as_tensor_arg(op, x)
            tensors.append(x)
        elif op.scalar_inputs and isinstance(x, _SCALARS + (_dtypes.np.generic,)):
            args[i] = x.item() if isinstance(x, _dtypes.np.generic) else x
        else:
            raise as_tensor_arg(op, x, allow_scalar=False)  # raises ArgumentTypeError

    if tensors:
        dev = tensors[0]._device
        for t in tensors:
            if t._device is not dev:
                raise _device_mismatch(op, args)
        if device is not None and device is not dev:
            raise op_error(op, DeviceError, f"device={device} was asked for, but the inputs are "
                           f"on {dev}; move them with .to('{device}')", args)
    else:
        dev = device if device is not None else default_device()

    given = tuple(args)  # what autodiff records: the caller's tensors, before any cast
    try:
        if op.promote:
            args = _promote(op, dev, args)
        dtypes = [a._dtype if isinstance(a, Tensor) else None for a in args]
        out_dtype = op.dtype_rule(*dtypes, **params)
    except EagerflowError as exc:
        raise _prefixed(op, exc, tensors) from None

    kern = dev.kernels.get(op.name)
    if kern is None:
        return _fallback(op, dev, (inputs,) if op.variadic else given, params, op.variadic)
    raws = [a._data if isinstance(a, Tensor) else a for a in args]
    kparams = params
    if params.get("dtype") is not None:
        kparams = _native_dtype_param(op, dev, params)
    if op.posparams:
        kparams = dict(kparams)
        raws += [kparams.pop(name) for name in op.posparams]
    try:
        raw = kern(raws, **kparams) if op.variadic else kern(*raws, **kparams)
    except Exception as exc:
        raise _failure(op, exc, args, params, dev) from None

    if isinstance(raw, (tuple, list)):  # namedtuples too (NumPy's EighResult...)
        dts = out_dtype if type(out_dtype) is tuple else (out_dtype,) * len(raw)
        out = tuple(wrap(r, d, dev) for r, d in zip(raw, dts))
    else:
        out = wrap(raw, out_dtype, dev)
    if state.tapes:
        record_hook(op, given, params, out)
    return out


def _promote(op, dev, args):
    """Cast tensor inputs to their common dtype; scalars become tensors of that dtype."""
    present = [a for a in args if isinstance(a, Tensor)]
    if not present:
        return args
    dt = present[0]._dtype
    for t in present[1:]:
        dt = _dtypes.promote_types(dt, t._dtype)
    for a in args:
        if type(a) in _SCALARS:
            dt = weak_promote(dt, a)
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a if a._dtype is dt else new_tensor(cast_raw(dev, a._data, dt), dt, dev))
        elif type(a) in _SCALARS:
            if type(a) is int and dt.kind in "iu":
                _check_int_scalar(op, dt, a, args)
            host = _dtypes.np.asarray(a, dtype=dt.numpy)
            out.append(new_tensor(dev.backend.backend.from_host(host, dev.index), dt, dev))
        else:
            out.append(a)
    return out
