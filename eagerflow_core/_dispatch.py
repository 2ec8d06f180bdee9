"""The path of one op call: from a public function to a backend kernel and back.

    1. normalise arguments    Python scalars stay weak (they take the tensor's dtype);
                              Variables give their value
    2. the interpreter seam   if this thread has an interpreter (a gradient tape, a tracer, a
                              forward-mode interpreter), it gets (op, inputs, params) now,
                              before any kernel runs, and decides what happens (JAX's
                              ``bind`` -> ``process_primitive``); without one, go on eagerly
    3. resolve the device     all tensor inputs on one device, else DeviceError
    4. result dtype           the op's dtype rule (a dict lookup for elementwise ops, a memo
                              for the others)
    5. find the kernel        the device's kernel table: a dict lookup; missing: the op's
                              default implementation (``impl``) if it has one, else the
                              fallback policy (``_fallback.py``)
    6. run the kernel         raw arrays in, raw arrays out
    7. wrap                   Tensor(raw, dtype, device): the values are ready

Two entry points are written out for speed, ``call_unary`` and ``call_binary`` (elementwise
ops, weak scalars): a few dict lookups and one kernel call, with the wrap inlined (factoring it
out costs ~10% of a tiny op). Every other op goes through ``call``, whose steps after the seam
are shared (``_finish``). An interpreter evaluates an op below itself with ``eager()``, which
enters the same paths past the seam. Shape rules do not run on success unless kernel checks
are on (``EAGERFLOW_CHECK_KERNELS=1``); they run when a kernel fails, to explain the failure
(``_dispatch_errors.py``).
"""

from __future__ import annotations

from abc import ABCMeta

from . import _convert, _dtypes
from . import _dispatch_errors as E
from . import _fallback
from ._devices import default_device
from ._dtypes import DType, weak_promote
from ._errors import DeviceError, DTypeError, EagerflowError
from ._state import state
from ._tensor import Tensor, new_tensor
from ._registry import OPS
from .plugins import loader

_SCALARS = (bool, int, float, complex)
_NO_PARAMS: dict = {}
# Weak promotion of (tensor dtype, Python scalar type), precomputed for the fast path.
_WEAK = {(d, t): weak_promote(d, t()) for d in _dtypes.ALL_DTYPES for t in _SCALARS}
checks = E.checks  # kernel result checks (EAGERFLOW_CHECK_KERNELS)
describe = E.describe  # noqa: F401  (used by the nn error messages)
op_error = E.op_error


# -- conversions -----------------------------------------------------------------------------

def as_tensor_arg(op, x, allow_scalar=True) -> Tensor:
    """The slow path for an argument that is not exactly a Tensor."""
    if isinstance(x, Tensor):  # subclasses
        return x
    if hasattr(x, "_ef_tensor_"):  # objects that stand for a tensor (Variable)
        return x._ef_tensor_()
    if allow_scalar and isinstance(x, _SCALARS + (_dtypes.np.generic,)):
        return _convert.scalar_tensor(x, default_device(), op.name)
    if _convert.is_data(x):  # a list or a NumPy array: converted, on the default device
        return _convert.implicit(x, default_device(), None, op.name)
    raise E.not_a_tensor(op, x)


def cast_raw(dev, raw, dtype: DType):
    """``raw`` converted to ``dtype`` on ``dev`` (the backend's astype kernel)."""
    native = dev.native.get(dtype)
    if native is None:
        raise DTypeError(f"backend {dev.backend.name!r} has no {dtype} dtype; supported: "
                         + ", ".join(d.name for d in dev.native))
    return dev.kernels["astype"](raw, native)


def wrap(raw, dtype: DType, dev, op=None) -> Tensor:
    """Wrap a kernel result, enforcing the dtype the core decided (the shared tail of every
    path but the two inlined ones). A result that is not an array is a KernelError."""
    if type(raw) is not dev.array_type:
        raw = _coerce(op, dev, raw)
    native = dev.native[dtype]
    have = raw.dtype
    if have is not native and have != native:
        raw = _cast_result(op or _UNKNOWN, dev, raw, dtype)
    t = object.__new__(Tensor)
    t._data = raw
    t._dtype = dtype
    t._device = dev
    t._tid = 0
    return t


def _coerce(op, dev, raw):
    """A kernel returned something other than the backend's array type: a scalar (NumPy's
    reductions do) becomes a 0-d array; anything else is the kernel's bug, reported. (A
    dtype eagerflow does not know is caught where the dtype is enforced: ``_cast_result``.)"""
    if raw is None or isinstance(raw, _NOT_ARRAYS):
        raise E.bad_result(op or _UNKNOWN, dev, raw, "kernels must return the backend's arrays")
    if isinstance(dev.array_type, ABCMeta) and isinstance(raw, dev.array_type):
        return raw  # array_type is an abstract base (jax.Array): its subclasses are its arrays
    try:
        out = dev.coerce(raw)
    except Exception as exc:  # noqa: BLE001
        raise E.bad_result(op or _UNKNOWN, dev, raw, f"coercing it failed: {exc}") from None
    if type(out) is not dev.array_type and not isinstance(out, dev.array_type):
        raise E.bad_result(op or _UNKNOWN, dev, raw, "kernels must return the backend's arrays")
    return out


_NOT_ARRAYS = (str, bytes, tuple, list, dict)


class _Unknown:
    name = "a kernel"


_UNKNOWN = _Unknown()


# -- the elementwise fast paths -------------------------------------------------------------

def call_unary(op, x, _eager=False):
    if type(x) is not Tensor:
        x = as_tensor_arg(op, x)
    if not _eager and state.interp is not None:
        return state.interp.process(op, (x,), _NO_PARAMS, None)
    pair = op.table.get(x._dtype)
    if pair is None:
        raise E.dtype_refused(op, x._dtype, (x,))
    dev = x._device
    kern = dev.kernels.get(op.name)
    if kern is None:
        return _fallback.run(op, dev, (x,), _NO_PARAMS, None, eager)
    data = x._data
    if pair[0] is not x._dtype:
        data = cast_raw(dev, data, pair[0])
    try:
        raw = kern(data)
    except Exception as exc:
        raise E.failure(op, exc, (x,), _NO_PARAMS, dev) from None
    # wrap(), inlined
    if type(raw) is not dev.array_type:
        raw = _coerce(op, dev, raw)
    dt = pair[1]
    native = dev.native[dt]
    if raw.dtype is not native and raw.dtype != native or checks.on:
        raw = _checked(op, dev, raw, dt, (x,))
    out = object.__new__(Tensor)
    out._data = raw
    out._dtype = dt
    out._device = dev
    out._tid = 0
    return out


def call_binary(op, a, b, _eager=False):
    ta, tb = type(a), type(b)
    if ta is Tensor and tb is Tensor:
        if not _eager and state.interp is not None:
            return state.interp.process(op, (a, b), _NO_PARAMS, None)
        dev = a._device
        if b._device is not dev:
            raise E.device_mismatch(op, (a, b))
        da, db = a._dtype, b._dtype
        xa, xb = a._data, b._data
        if da is db:
            dt = da
        else:
            dt = _dtypes._PROMOTION.get((da, db))
            if dt is None:
                raise E.no_common_dtype(op, da, db, (a, b))
            if da is not dt:
                xa = cast_raw(dev, xa, dt)
            if db is not dt:
                xb = cast_raw(dev, xb, dt)
    elif ta is Tensor and tb in _SCALARS:
        if not _eager and state.interp is not None:
            return state.interp.process(op, (a, b), _NO_PARAMS, None)
        dev, xa, xb = a._device, a._data, b
        dt = _WEAK[a._dtype, tb]
        if dt is not a._dtype:
            xa = cast_raw(dev, xa, dt)
    elif tb is Tensor and ta in _SCALARS:
        if not _eager and state.interp is not None:
            return state.interp.process(op, (a, b), _NO_PARAMS, None)
        dev, xa, xb = b._device, a, b._data
        dt = _WEAK[b._dtype, ta]
        if dt is not b._dtype:
            xb = cast_raw(dev, xb, dt)
    else:
        return _binary_slow(op, a, b, _eager)
    pair = op.table.get(dt)
    if pair is None:
        raise E.dtype_refused(op, dt, (a, b))
    kern = dev.kernels.get(op.name)
    if kern is None:
        return _fallback.run(op, dev, (a, b), _NO_PARAMS, None, eager)
    if pair[0] is not dt:
        if type(xa) not in _SCALARS:
            xa = cast_raw(dev, xa, pair[0])
        if type(xb) not in _SCALARS:
            xb = cast_raw(dev, xb, pair[0])
    if (ta is int or tb is int) and pair[0].kind in "iu":
        E.check_int_scalar(op, pair[0], a if ta is int else b, (a, b))
    try:
        raw = kern(xa, xb)
    except Exception as exc:
        raise E.failure(op, exc, (a, b), _NO_PARAMS, dev) from None
    # wrap(), inlined
    if type(raw) is not dev.array_type:
        raw = _coerce(op, dev, raw)
    dt = pair[1]
    native = dev.native[dt]
    if raw.dtype is not native and raw.dtype != native or checks.on:
        raw = _checked(op, dev, raw, dt, (a, b))
    out = object.__new__(Tensor)
    out._data = raw
    out._dtype = dt
    out._device = dev
    out._tid = 0
    return out


def _checked(op, dev, raw, dt, args, params=_NO_PARAMS):
    """An elementwise result whose dtype is not the one decided, or any result in
    kernel-check mode (shape and dtype checked): cast to the decided dtype."""
    if checks.on:
        E.check_result(op, dev, raw, dt, args, params)
    return raw if raw.dtype == dev.native[dt] else _cast_result(op, dev, raw, dt)


def _cast_result(op, dev, raw, dt):
    """A kernel's result in another dtype than the decided one, cast back to it: unless it is
    no dtype eagerflow knows (an object array), or, in kernel-check mode, casting would hide
    lost precision (only a wider dtype of the same kind passes)."""
    have = dev.backend.from_native.get(raw.dtype)
    if have is None or (checks.on and (have.kind != dt.kind or have.itemsize < dt.itemsize)):
        raise E.bad_result(op, dev, raw, f"the op's dtype rule says {dt}; the kernel computed "
                           f"in another dtype")
    return dev.kernels["astype"](raw, dev.native[dt])


def _binary_slow(op, a, b, _eager):
    """Variables, NumPy scalars and Python scalars on both sides go through here."""
    if isinstance(a, _dtypes.np.generic):
        a = a.item()
    if isinstance(b, _dtypes.np.generic):
        b = b.item()
    if type(a) in _SCALARS and type(b) in _SCALARS:
        a = as_tensor_arg(op, a)
    # A list or NumPy array beside a tensor: on that tensor's device, a list weak to its dtype.
    if _convert.is_data(a) and isinstance(b, Tensor):
        a = _convert.implicit(a, b._device, b._dtype, op.name)
    elif _convert.is_data(b) and isinstance(a, Tensor):
        b = _convert.implicit(b, a._device, a._dtype, op.name)
    if not (isinstance(a, Tensor) or type(a) in _SCALARS):
        a = as_tensor_arg(op, a, allow_scalar=False)
    if not (isinstance(b, Tensor) or type(b) in _SCALARS):
        b = as_tensor_arg(op, b, allow_scalar=False)
    if type(a) is not Tensor and isinstance(a, Tensor):
        a = _plain(a)
    if type(b) is not Tensor and isinstance(b, Tensor):
        b = _plain(b)
    return call_binary(op, a, b, _eager)


def _plain(t: Tensor) -> Tensor:
    """A Tensor subclass instance seen as a plain Tensor (same identity for autodiff)."""
    if type(t) is Tensor:
        return t
    out = new_tensor(t._data, t._dtype, t._device)
    out._tid = t._tid
    return out


# -- the general path ----------------------------------------------------------------------------

def call(op, inputs=(), params=_NO_PARAMS, device=None, _eager=False):
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
                if not _eager and state.interp is not None:
                    return state.interp.process(op, tuple(inputs), params, device)
                return _call_uniform(op, inputs, params, dev, dt)
    return _call_general(op, inputs, params, device, _eager)


def _call_uniform(op, inputs, params, dev, dt):
    """Tensor inputs of one dtype on one device: the op's *plan* for this (device, dtype,
    params) - the params as the kernel takes them (native dtype, positional params split off)
    and the result dtype - is made once and kept (``OpDef.plans``), so a repeated call (every
    step of a training loop) does one dict lookup instead of the dtype rule and the parameter
    conversion. The kernel itself is looked up on every call: a table may change (a test's
    monkeypatch, a reloaded plugin)."""
    try:
        key = (id(dev), dt, len(inputs), *params.values()) if params else (id(dev), dt, len(inputs))
        plan = op.plans.get(key)
    except (TypeError, AttributeError):  # an unhashable param; plans is None (a keyed op)
        key = plan = None
    kern = dev.kernels.get(op.name)
    if plan is None:
        if op.dtype_rule is None:  # a composite: its body decides
            return _run_impl(op, tuple(inputs), params)
        try:
            out_dtype = op.dtype_rule(*[dt] * len(inputs), **params)
        except EagerflowError as exc:
            raise E.prefixed(op, exc, inputs) from None
        if kern is None:
            return _finish(op, inputs, inputs, params, dev, out_dtype)  # fallback or impl
        plan = _kernel_params(op, dev, params) + (out_dtype,)
        if key is not None and len(op.plans) < _PLANS_PER_OP:
            op.plans[key] = plan
    elif kern is None:
        return _finish(op, inputs, inputs, params, dev, plan[2])
    pos, kparams, out_dtype = plan
    try:
        if params:
            raw = kern(*[t._data for t in inputs], *pos, **kparams)
        elif len(inputs) == 2:  # matmul, vecdot...: no list, no argument unpacking
            raw = kern(inputs[0]._data, inputs[1]._data)
        else:
            raw = kern(*[t._data for t in inputs])
    except Exception as exc:
        raise E.failure(op, exc, inputs, params, dev) from None
    if type(raw) is dev.array_type and type(out_dtype) is not tuple:
        native = dev.native[out_dtype]
        if raw.dtype is not native and raw.dtype != native or checks.on:
            raw = _checked(op, dev, raw, out_dtype, inputs, params)
        out = object.__new__(Tensor)
        out._data = raw
        out._dtype = out_dtype
        out._device = dev
        out._tid = 0
        return out
    return _results(op, raw, out_dtype, inputs, params, dev)


def call_full(op, x, full_params):
    """A reduction over every axis of a plain tensor (``ef.sum(loss)`` at the end of every
    step): the op's plan for (device, dtype) is kept under its own key, so the call is one
    lookup, the kernel and the wrap. Anything unusual (an interpreter, kernel checks, no plan
    yet, a result of another type) takes the general path, which makes the plan.
    ``full_params(dtype)`` gives the op's params, made only when needed."""
    if state.interp is None and not checks.on:
        dev = x._device
        plan = op.plans.get((_FULL, id(dev), x._dtype))
        if plan is not None:
            kern, kparams, out_dtype, native = plan
            if dev.kernels.get(op.name) is kern:
                try:
                    raw = kern(x._data, **kparams)
                except Exception as exc:
                    raise E.failure(op, exc, (x,), full_params(x._dtype), dev) from None
                if type(raw) is dev.array_type and raw.dtype is native:
                    return new_tensor(raw, out_dtype, dev)
                return _results(op, raw, out_dtype, (x,), full_params(x._dtype), dev)
        params = full_params(x._dtype)
        out = call(op, (x,), params)
        kern = dev.kernels.get(op.name)
        if kern is not None and not op.posparams and type(out) is Tensor \
                and len(op.plans) < _PLANS_PER_OP:
            kparams = _kernel_params(op, dev, params)[1]
            op.plans[(_FULL, id(dev), x._dtype)] = (kern, kparams, out._dtype, dev.native[out._dtype])
        return out
    return call(op, (x,), full_params(x._dtype))


_FULL = object()  # the plan key's mark of call_full


_PLANS_PER_OP = 512  # a bound: ops called with ever-new params (reshape's shapes) stop adding


def _forget_plans():
    # A reload may bring other kernels, and a freed device's id may be reused by a new one.
    for op in OPS.values():
        if op.plans is not None:
            op.plans.clear()


loader.on_reload.append(_forget_plans)


def _kernel_params(op, dev, params):
    """``(positional params, keyword params)`` as the kernel takes them."""
    kparams = dict(params)
    dt = kparams.get("dtype")
    if dt is not None:
        kparams = _native_dtype_param(op, dev, kparams)
    pos = tuple(kparams.pop(name) for name in op.posparams)
    return pos, kparams


def _call_general(op, inputs, params, device, _eager):
    args = list(inputs)
    if op.dtype_rule is not None and any(_convert.is_data(x) for x in args):
        args = _implicit(op, args, device)
    tensors = []
    for i, x in enumerate(args):
        if type(x) is Tensor:
            tensors.append(x)
        elif x is None:
            continue
        elif isinstance(x, Tensor) or hasattr(x, "_ef_tensor_"):
            args[i] = x = _plain(as_tensor_arg(op, x))
            tensors.append(x)
        elif op.scalar_inputs and isinstance(x, _SCALARS + (_dtypes.np.generic,)):
            args[i] = x.item() if isinstance(x, _dtypes.np.generic) else x
        elif op.dtype_rule is None:  # a composite takes any Python value (an axis...)
            continue
        else:
            raise E.not_a_tensor(op, x)
    given = tuple(args)  # what interpreters see: the caller's tensors, before any cast
    if not _eager and state.interp is not None:
        return state.interp.process(op, given, params, device)
    if op.dtype_rule is None:
        return _run_impl(op, given, params)

    if tensors:
        dev = tensors[0]._device
        for t in tensors:
            if t._device is not dev:
                raise E.device_mismatch(op, args)
        if device is not None and device is not dev:
            raise op_error(op, DeviceError, f"device={device} was asked for, but the inputs are "
                           f"on {dev}; move them with .to('{device}')", args)
    else:
        dev = device if device is not None else default_device()

    try:
        if op.promote:
            args = _promote(op, dev, args)
        dtypes = [a._dtype if isinstance(a, Tensor) else None for a in args]
        out_dtype = op.dtype_rule(*dtypes, **params)
    except EagerflowError as exc:
        raise E.prefixed(op, exc, tensors) from None
    return _finish(op, given, args, params, dev, out_dtype)


def _finish(op, given, args, params, dev, out_dtype):
    """The shared tail: kernel (or default implementation, or fallback), call, wrap."""
    kern = dev.kernels.get(op.name)
    if kern is None:
        if op.impl is not None:
            return _run_impl(op, given, params)
        return _fallback.run(op, dev, given, params, None if given else dev, eager)
    raws = [a._data if isinstance(a, Tensor) else a for a in args]
    kparams = params
    if params:
        dt = params.get("dtype")
        if dt is not None:  # the backend's own dtype object
            native = dev.native.get(dt)
            kparams = _native_dtype_param(op, dev, params) if native is None \
                else {**params, "dtype": native}
        if op.posparams:
            kparams = dict(kparams)
            raws += [kparams.pop(name) for name in op.posparams]
    try:
        raw = kern(raws, **kparams) if op.variadic else kern(*raws, **kparams)
    except Exception as exc:
        raise E.failure(op, exc, args, params, dev) from None
    return _results(op, raw, out_dtype, args, params, dev)


def _results(op, raw, out_dtype, args, params, dev):
    """The shared tail: the kernel's result(s) wrapped as the core decided (and checked in
    kernel-check mode)."""
    if isinstance(raw, (tuple, list)):  # namedtuples too (NumPy's EighResult...)
        if type(out_dtype) is not tuple and op.nout == 1 and \
                not isinstance(E.expected_shape(op, args, params), list):
            raise E.bad_result(op, dev, raw, "the op has one result")  # not several
        dts = out_dtype if type(out_dtype) is tuple else (out_dtype,) * len(raw)
        out = tuple(wrap(r, d, dev, op) for r, d in zip(raw, dts))
        if checks.on:
            for i, (o, d) in enumerate(zip(out, dts)):
                E.check_result(op, dev, o._data, d, args, params, index=i)
        return out
    if type(out_dtype) is tuple:
        raise E.bad_result(op, dev, raw, f"the op has {len(out_dtype)} results")
    out = wrap(raw, out_dtype, dev, op)
    if checks.on:
        E.check_result(op, dev, raw if raw.__class__ is dev.array_type else out._data,
                       out_dtype, args, params)
    return out


def _implicit(op, args, device):
    """Lists and NumPy arrays among a general op's inputs, converted on the device of its
    tensor inputs (ef.matmul([[2.0]], x)); a list is weak to their dtype."""
    tensors = [as_tensor_arg(op, x) for x in args if isinstance(x, Tensor) or hasattr(x, "_ef_tensor_")]
    dev = tensors[0]._device if tensors else (device if device is not None else default_device())
    like = tensors[0]._dtype if tensors else None
    for t in tensors[1:]:
        like = _dtypes._PROMOTION.get((like, t._dtype), like)
    return [_convert.implicit(x, dev, like, op.name) if _convert.is_data(x) else x for x in args]


def _run_impl(op, inputs, params):
    """An op the core computes from other ops (a composite without a fused kernel on this
    device): its body runs below every interpreter, which see only the op itself."""
    interp, tapes = state.interp, state.tapes
    state.interp, state.tapes = None, ()
    try:
        out = op.impl(*inputs, **params)
    finally:
        state.interp, state.tapes = interp, tapes
    # A result must be a new object: an interpreter gives it an identity of its own.
    if isinstance(out, (tuple, list)):
        return type(out)(_fresh(o, inputs) for o in out) if not hasattr(out, "_fields") else \
            type(out)(*[_fresh(o, inputs) for o in out])
    return _fresh(out, inputs)


def _fresh(o, inputs):
    if any(o is x for x in inputs):
        return new_tensor(o._data, o._dtype, o._device)
    return o


def _native_dtype_param(op, dev, params):
    kparams = dict(params)
    kparams["dtype"] = dev.native.get(params["dtype"])
    if kparams["dtype"] is None:
        raise op_error(op, DTypeError, f"backend {dev.backend.name!r} has no {params['dtype']}")
    return kparams


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
                E.check_int_scalar(op, dt, a, args)
            host = _dtypes.np.asarray(a, dtype=dt.numpy)
            out.append(new_tensor(dev.backend.backend.from_host(host, dev.index), dt, dev))
        else:
            out.append(a)
    return out


# -- evaluation at the bottom of the interpreter stack -----------------------------------------

def eager(op, inputs, params=_NO_PARAMS, device=None):
    """Evaluate an op now, on its inputs' device, bypassing the interpreter seam: what an
    interpreter calls to compute the op below itself (and the fallback to rerun it)."""
    kind = op.kind
    if kind == "unary":
        return call_unary(op, inputs[0], True)
    if kind == "binary":
        return call_binary(op, inputs[0], inputs[1], True)
    return call(op, inputs, params, device, True)
