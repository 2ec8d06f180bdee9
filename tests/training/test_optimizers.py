"""ef.optimizers (issue #7, item 5): updates against Keras' formulas written out in NumPy,
against torch.optim for the same weights and gradients, fused kernels against the functional
path, no per-step allocation, and the apply_gradients contract."""

from __future__ import annotations

import math
import tracemalloc
import types
import warnings

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core.plugins import ArrayAPIBackend, hookimpl, register_plugin, unregister_plugin

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,)]
STEPS = 6
LR = 0.0625  # exact in float32: Keras keeps a float learning rate in a float32 Variable


def _problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    w0 = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return w0, grads


def _run_ef(opt, w0, grads, dtype=ef.float64):
    vs = [ef.Variable(ef.constant(w, dtype=dtype)) for w in w0]
    for step in grads:
        opt.apply_gradients(zip([ef.constant(g, dtype=dtype) for g in step], vs))
    return [v.numpy() for v in vs]


def _run_torch(make, w0, grads, eps=None):
    params = [torch.tensor(w, requires_grad=True) for w in w0]
    opt = make(params)
    for t, step in enumerate(grads, 1):
        if eps is not None:
            for group in opt.param_groups:
                group["eps"] = eps(t)
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params]


def _adam_eps(eps, beta_2=0.999):
    # Keras adds epsilon to sqrt(v), PyTorch to sqrt(v / (1 - beta_2**t)): the same update when
    # PyTorch's eps at step t is Keras' divided by sqrt(1 - beta_2**t).
    return lambda t: eps / math.sqrt(1 - beta_2 ** t)


# Keras' formulas and PyTorch's agree exactly under these settings: same learning rate, the
# same epsilon once placed alike (Adam: rescaled per step; RMSprop/Adagrad put it inside the
# root and PyTorch outside, so both use 0: the gradients are never 0 here).
TORCH_CASES = {
    "sgd": (lambda: ef.optimizers.SGD(LR), lambda p: torch.optim.SGD(p, lr=LR), None),
    "sgd_momentum": (lambda: ef.optimizers.SGD(LR, momentum=0.875),
                     lambda p: torch.optim.SGD(p, lr=LR, momentum=0.875), None),
    "sgd_nesterov": (lambda: ef.optimizers.SGD(LR, momentum=0.875, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=LR, momentum=0.875, nesterov=True), None),
    "adam": (lambda: ef.optimizers.Adam(LR), lambda p: torch.optim.Adam(p, lr=LR),
             _adam_eps(1e-7)),
    "adam_betas": (lambda: ef.optimizers.Adam(LR, beta_1=0.5, beta_2=0.75, epsilon=1e-3),
                   lambda p: torch.optim.Adam(p, lr=LR, betas=(0.5, 0.75)),
                   _adam_eps(1e-3, 0.75)),
    "amsgrad": (lambda: ef.optimizers.Adam(LR, amsgrad=True),
                lambda p: torch.optim.Adam(p, lr=LR, amsgrad=True), _adam_eps(1e-7)),
    "adamw": (lambda: ef.optimizers.AdamW(LR, weight_decay=0.125),
              lambda p: torch.optim.AdamW(p, lr=LR, weight_decay=0.125), _adam_eps(1e-7)),
    "rmsprop": (lambda: ef.optimizers.RMSprop(LR, rho=0.75, epsilon=0.0),
                lambda p: torch.optim.RMSprop(p, lr=LR, alpha=0.75, eps=0.0), None),
    "rmsprop_centered_momentum": (
        lambda: ef.optimizers.RMSprop(LR, rho=0.75, momentum=0.5, centered=True, epsilon=0.0),
        lambda p: torch.optim.RMSprop(p, lr=LR, alpha=0.75, momentum=0.5, centered=True, eps=0.0),
        None),
    "adagrad": (lambda: ef.optimizers.Adagrad(LR, initial_accumulator_value=0.1, epsilon=0.0),
                lambda p: torch.optim.Adagrad(p, lr=LR, initial_accumulator_value=0.1, eps=0.0),
                None),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_trajectory_matches_torch_optim(case):
    make_ef, make_torch, eps = TORCH_CASES[case]
    w0, grads = _problem(seed=len(case))
    got = _run_ef(make_ef(), w0, grads)
    want = _run_torch(make_torch, w0, grads, eps)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


# -- Keras' formulas, written out ------------------------------------------------------------

def _keras_sgd(w, grads, lr, momentum=0.0, nesterov=False, wd=None):
    m = np.zeros_like(w)
    for g in grads:
        if wd:
            w = w - w * wd * lr
        if momentum:
            m = m * momentum - g * lr
            w = w + (m * momentum - g * lr if nesterov else m)
        else:
            w = w - g * lr
    return w


def _keras_adam(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    m, v, vhat = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        if wd:
            w = w - w * wd * lr
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vhat = np.maximum(vhat, v)
        w = w - m * alpha / (np.sqrt(vhat if amsgrad else v) + eps)
    return w


def _keras_rmsprop(w, grads, lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    v, mom, mg = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        if centered:
            mg = rho * mg + (1 - rho) * g
            den = v - mg * mg + eps
        else:
            den = v + eps
        inc = lr * g / np.sqrt(den)
        if momentum:
            mom = momentum * mom + inc
            w = w - mom
        else:
            w = w - inc
    return w


def _keras_adagrad(w, grads, lr, init=0.1, eps=1e-7):
    acc = np.full_like(w, init)
    for g in grads:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    return w


KERAS_CASES = {
    "sgd_decay": (lambda: ef.optimizers.SGD(LR, weight_decay=0.25),
                  lambda w, gs: _keras_sgd(w, gs, LR, wd=0.25)),
    "sgd_nesterov": (lambda: ef.optimizers.SGD(LR, momentum=0.5, nesterov=True),
                     lambda w, gs: _keras_sgd(w, gs, LR, 0.5, True)),
    "adam_defaults": (lambda: ef.optimizers.Adam(LR), lambda w, gs: _keras_adam(w, gs, LR)),
    "adam_big_eps": (lambda: ef.optimizers.Adam(LR, epsilon=0.5),
                     lambda w, gs: _keras_adam(w, gs, LR, eps=0.5)),
    "adamw_amsgrad": (lambda: ef.optimizers.AdamW(LR, weight_decay=0.5, amsgrad=True),
                      lambda w, gs: _keras_adam(w, gs, LR, amsgrad=True, wd=0.5)),
    "rmsprop_defaults": (lambda: ef.optimizers.RMSprop(LR),
                         lambda w, gs: _keras_rmsprop(w, gs, LR)),
    "rmsprop_big_eps_centered": (
        lambda: ef.optimizers.RMSprop(LR, momentum=0.25, epsilon=0.5, centered=True),
        lambda w, gs: _keras_rmsprop(w, gs, LR, momentum=0.25, eps=0.5, centered=True)),
    "adagrad_defaults": (lambda: ef.optimizers.Adagrad(LR),
                         lambda w, gs: _keras_adagrad(w, gs, LR)),
}


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_trajectory_matches_keras_formulas(case):
    make, reference = KERAS_CASES[case]
    w0, grads = _problem(seed=7)
    got = _run_ef(make(), w0, grads)
    for i, g in enumerate(got):
        np.testing.assert_allclose(g, reference(w0[i], [s[i] for s in grads]), rtol=1e-12,
                                   atol=1e-14)


def test_single_steps_by_hand():
    w = ef.Variable([1.0, -2.0], dtype=ef.float64)
    opt = ef.optimizers.SGD(learning_rate=0.5, momentum=0.5, nesterov=True)
    opt.apply_gradients([(ef.constant([1.0, 2.0], dtype=ef.float64), w)])
    # m = -0.5 * g = [-0.5, -1]; w += 0.5 * m - 0.5 * g = [-0.75, -1.5]
    np.testing.assert_array_equal(w.numpy(), [0.25, -3.5])
    w = ef.Variable([1.0], dtype=ef.float64)
    ef.optimizers.Adam(0.5, epsilon=0.0).apply_gradients([(ef.constant([-4.0], ef.float64), w)])
    # m = -0.4, v = 0.016, alpha = 0.5 * sqrt(0.001) / 0.1: w -= alpha * m / sqrt(v) = -0.5
    np.testing.assert_allclose(w.numpy(), [1.5], rtol=1e-14)


# -- the fused kernels and the functional path ----------------------------------------------

FUSED = {
    "optim.sgd": [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True, weight_decay=0.1)],
    "optim.adam": [dict(), dict(amsgrad=True), dict(weight_decay=0.01)],
    "optim.rmsprop": [dict(), dict(momentum=0.5), dict(centered=True),
                      dict(centered=True, momentum=0.5, weight_decay=0.1)],
    "optim.adagrad": [dict(), dict(weight_decay=0.1)],
}
CLASS = {"optim.sgd": ef.optimizers.SGD, "optim.adam": ef.optimizers.Adam,
         "optim.rmsprop": ef.optimizers.RMSprop, "optim.adagrad": ef.optimizers.Adagrad}


def _state(kernel, kwargs, dtype=ef.float32):
    """Parameters and slots after STEPS updates of a small parameter, one large enough to be
    updated block by block (with a partial last block), and one whose gradient is a broadcast
    (not contiguous)."""
    opt = CLASS[kernel](learning_rate=0.01, **kwargs)
    w0, grads = _problem(seed=3, dtype=np.float32)
    rng = np.random.default_rng(4)
    w0 += [rng.normal(size=(301, 250)).astype(np.float32), np.ones((200, 250), np.float32)]
    vs = [ef.Variable(ef.constant(w, dtype=dtype)) for w in w0]
    for step in grads:
        big = ef.constant(rng.normal(size=(301, 250)), dtype=dtype)
        row = ef.broadcast_to(ef.constant(rng.normal(size=(250,)), dtype=dtype), (200, 250))
        opt.apply_gradients(zip([ef.constant(g, dtype=dtype) for g in step] + [big, row], vs))
    return [v.numpy() for v in vs] + [v.numpy() for v in opt.variables]


@pytest.mark.parametrize("kernel,kwargs", [(k, kw) for k, kws in FUSED.items() for kw in kws])
def test_fused_kernel_and_functional_path_give_the_same_trajectory(kernel, kwargs, monkeypatch):
    table = ef.device("cpu").kernels
    calls = []
    fused = table[kernel]
    monkeypatch.setitem(table, kernel, lambda *a, **k: calls.append(1) or fused(*a, **k))
    with_kernel = _state(kernel, kwargs)
    assert len(calls) == STEPS * 4  # the fused kernel did every update
    monkeypatch.delitem(table, kernel)
    without = _state(kernel, kwargs)
    assert len(calls) == STEPS * 4
    assert len(with_kernel) == len(without)
    for a, b in zip(with_kernel, without):
        np.testing.assert_array_equal(a, b)  # the same ops in the same order: bit for bit


@pytest.mark.parametrize("make", [
    lambda: ef.optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: ef.optimizers.Adam(1e-3), lambda: ef.optimizers.AdamW(1e-3, amsgrad=True),
    lambda: ef.optimizers.RMSprop(momentum=0.5, centered=True), lambda: ef.optimizers.Adagrad()])
def test_steps_allocate_no_array_memory_after_warm_up(make):
    opt = make()
    ws = [ef.Variable(ef.ones((500_000,))), ef.Variable(ef.ones((300, 200)))]
    gs = [ef.full((500_000,), 0.5), ef.full((300, 200), 0.25)]
    buffers = None
    for _ in range(2):  # slots and the kernel's scratch buffer are made here
        opt.apply_gradients(zip(gs, ws))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(5):
            opt.apply_gradients(zip(gs, ws))
            now = [id(v._value._data) for v in ws + opt.variables[2:]]
            assert buffers is None or now == buffers  # the same buffers, written in place
            buffers = now
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"a step allocated {peak} bytes (a parameter is 2 MB)"


class _PlainNumpy(ArrayAPIBackend):
    """A second backend: the kit's NumPy table, without the optimizer kernels."""
    name, device_type, namespace, array_type = "plainnp", "plainnp", np, np.ndarray


@pytest.fixture
def plain_device():
    register_plugin(types.SimpleNamespace(eagerflow_backend=hookimpl(lambda: _PlainNumpy())),
                    "plainnp")
    try:
        yield "plainnp:0"
    finally:
        unregister_plugin("plainnp")


@pytest.mark.parametrize("kernel", sorted(FUSED))
def test_a_backend_without_fused_kernels_gets_the_same_values(kernel, plain_device):
    kwargs = FUSED[kernel][-1]
    with ef.device("cpu"):
        on_cpu = _state(kernel, kwargs)
    assert kernel not in ef.device(plain_device).kernels
    with ef.device(plain_device):
        elsewhere = _state(kernel, kwargs)
    for a, b in zip(on_cpu, elsewhere):
        np.testing.assert_array_equal(a, b)


# -- the apply_gradients contract ---------------------------------------------------------------

def test_a_none_gradient_skips_its_variable_and_all_none_is_an_error():
    a, b = ef.Variable([1.0], name="a"), ef.Variable([1.0], name="b")
    opt = ef.optimizers.Adam(0.1)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b'\]"):
        opt.apply_gradients([(ef.constant([1.0]), a), (None, b)])
    assert b.numpy()[0] == 1.0 and a.numpy()[0] != 1.0
    assert len(opt.variables) == 4  # iterations, learning rate, a's two slots; none for b
    with pytest.raises(ef.InvalidArgumentError, match="no gradients provided for any variable"):
        opt.apply_gradients([(None, a), (None, b)])
    assert int(opt.iterations) == 1


def test_a_wrong_gradient_is_a_clear_error_naming_the_variable(plain_device):
    w = ef.Variable(ef.zeros((2, 3)), name="dense/kernel")
    opt = ef.optimizers.SGD()
    with pytest.raises(ef.ShapeError, match=r"Variable 'dense/kernel' has shape \(3,\), the "
                                            r"Variable \(2, 3\)"):
        opt.apply_gradients([(ef.zeros((3,)), w)])
    with pytest.raises(ef.DTypeError, match=r"'dense/kernel' is float64, the Variable float32"):
        opt.apply_gradients([(ef.zeros((2, 3), dtype=ef.float64), w)])
    with pytest.raises(ef.DeviceError, match=r"'dense/kernel' is on plainnp:0, the Variable "
                                             r"on cpu:0"):
        opt.apply_gradients([(ef.zeros((2, 3), device=plain_device), w)])
    with pytest.raises(ef.DTypeError, match="real floating-point"):
        opt.apply_gradients([(ef.zeros((2,), dtype=ef.int32), ef.Variable([1, 2]))])
    with pytest.raises(ef.ArgumentTypeError, match="not an ef.Variable"):
        opt.apply_gradients([(ef.zeros((2, 3)), ef.zeros((2, 3)))])
    assert int(opt.iterations) == 0 and not opt._slot_variables


def test_minimize_runs_a_tape_and_takes_a_var_list_function():
    w = ef.Variable([3.0])
    opt = ef.optimizers.SGD(0.25)
    assert opt.minimize(lambda: ef.sum(w * w), lambda: [w]) is opt.iterations
    np.testing.assert_array_equal(w.numpy(), [1.5])
    with ef.GradientTape() as tape:
        loss = ef.sum(w * w)
    opt.minimize(loss, [w], tape=tape)
    np.testing.assert_array_equal(w.numpy(), [0.75])
    with pytest.raises(ef.InvalidArgumentError, match="needs the `tape`"):
        opt.minimize(loss, [w])


def test_updates_are_not_recorded_by_an_active_tape(monkeypatch):
    w = ef.Variable([2.0])
    monkeypatch.delitem(ef.device("cpu").kernels, "optim.sgd")  # the functional path
    with ef.GradientTape(persistent=True) as tape:
        y = w * 3.0
        ef.optimizers.SGD(0.5).apply_gradients([(ef.constant([1.0]), w)])
    np.testing.assert_array_equal(w.numpy(), [1.5])
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), [3.0])


def test_learning_rate_is_a_settable_variable_picked_up_on_the_next_step():
    w = ef.Variable([0.0])
    g = ef.constant([1.0])
    opt = ef.optimizers.SGD(learning_rate=1.0)
    assert isinstance(opt.learning_rate, ef.Variable) and opt.learning_rate.dtype == ef.float32
    opt.apply_gradients([(g, w)])
    opt.learning_rate = 0.5
    opt.apply_gradients([(g, w)])
    opt.learning_rate.assign(0.25)
    opt.apply_gradients([(g, w)])
    opt.learning_rate.assign_add(0.25)  # an in-place update is seen too
    opt.apply_gradients([(g, w)])
    np.testing.assert_array_equal(w.numpy(), [-(1 + 0.5 + 0.25 + 0.5)])
    opt.learning_rate = lambda: 0.125  # a function of no arguments, as in Keras
    opt.apply_gradients([(g, w)])
    np.testing.assert_array_equal(w.numpy(), [-2.375])


def test_a_schedule_sees_the_step_counter_and_is_not_settable_to_a_float():
    sched = ef.optimizers.schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5, 0.25])
    w = ef.Variable([0.0])
    opt = ef.optimizers.SGD(learning_rate=sched)
    for _ in range(4):
        opt.apply_gradients([(ef.constant([1.0]), w)])
    np.testing.assert_array_equal(w.numpy(), [-(1.0 + 1.0 + 0.5 + 0.25)])  # steps 0, 1, 2, 3
    assert float(opt.learning_rate) == 0.25
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1

    seen = []

    class Halving(ef.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            seen.append(int(step))
            return 2.0 ** -ef.astype(step, ef.float32)
    opt = ef.optimizers.SGD(learning_rate=Halving())
    w = ef.Variable([0.0])
    for _ in range(3):
        opt.apply_gradients([(ef.constant([1.0]), w)])
    assert seen == [0, 1, 2]
    np.testing.assert_array_equal(w.numpy(), [-1.75])


def test_the_step_counter_drives_bias_correction_even_after_an_assign():
    w0, grads = _problem(seed=5)
    opt = ef.optimizers.Adam(LR)
    vs = [ef.Variable(w) for w in w0]
    for step in grads[:3]:
        opt.apply_gradients(zip([ef.constant(g) for g in step], vs))
    twin = ef.optimizers.Adam(LR)
    twin_vs = [ef.Variable(v.numpy()) for v in vs]
    twin.build(twin_vs)
    for (_, _, slot), (_, _, mine) in zip(sorted(twin._checkpoint_slots(), key=_slot_key(twin_vs)),
                                          sorted(opt._checkpoint_slots(), key=_slot_key(vs))):
        slot.assign(mine.numpy())
    twin.iterations.assign(3)  # a restored counter: step 4's bias correction must use t=4
    for step in grads[3:]:
        opt.apply_gradients(zip([ef.constant(g) for g in step], vs))
        twin.apply_gradients(zip([ef.constant(g) for g in step], twin_vs))
    for a, b in zip(vs, twin_vs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _slot_key(variables):
    order = {id(v): i for i, v in enumerate(variables)}
    return lambda entry: (order[id(entry[0])], entry[1])


def test_clipping_options_follow_keras():
    g = ef.constant([3.0, 4.0])
    w = ef.Variable([0.0, 0.0])
    ef.optimizers.SGD(1.0, clipnorm=1.0).apply_gradients([(g, w)])
    np.testing.assert_allclose(w.numpy(), [-0.6, -0.8], rtol=1e-6)
    w1, w2 = ef.Variable([0.0, 0.0]), ef.Variable([0.0])
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        ef.optimizers.SGD(1.0, global_clipnorm=2.5).apply_gradients(
            [(g, w1), (None, ef.Variable([1.0])), (ef.constant([12.0]), w2)])
    np.testing.assert_allclose(w1.numpy(), [-0.5769231, -0.7692308], rtol=1e-6)  # norm 13
    np.testing.assert_allclose(w2.numpy(), [-2.3076923], rtol=1e-6)
    w = ef.Variable([0.0, 0.0])
    ef.optimizers.SGD(1.0, clipvalue=3.5).apply_gradients([(g, w)])
    np.testing.assert_array_equal(w.numpy(), [-3.0, -3.5])
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and "
                                         "`global_clipnorm` can be set"):
        ef.optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


def test_weight_decay_can_exclude_variables():
    kernel, bias = ef.Variable([1.0], name="dense/kernel"), ef.Variable([1.0], name="dense/bias")
    opt = ef.optimizers.SGD(0.5, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    zero = ef.constant([0.0])
    opt.apply_gradients([(zero, kernel), (zero, bias)])
    assert kernel.numpy()[0] == 0.75 and bias.numpy()[0] == 1.0
    with pytest.raises(ValueError, match="weight_decay must be a float"):
        ef.optimizers.AdamW(weight_decay=None)


def test_optimizer_state_is_tracked_by_the_module():
    w = ef.Variable(ef.zeros((2,)), name="w")
    opt = ef.optimizers.RMSprop(momentum=0.9, centered=True)
    assert isinstance(opt, ef.Module) and opt.trainable_variables == []
    opt.apply_gradients([(ef.ones((2,)), w)])
    names = [v.name for v in opt.variables]
    assert names == ["iteration", "learning_rate", "w/velocity", "w/momentum",
                     "w/average_gradient"]
    assert all(not v.trainable for v in opt.variables)
    assert opt.iterations.dtype == ef.int64
    del w  # a variable's slots go with it
    assert [v.name for v in opt.variables] == ["iteration", "learning_rate"]


def test_sgd_rejects_bad_momentum():
    with pytest.raises(ValueError, match="momentum must be a float in"):
        ef.optimizers.SGD(momentum=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ef.optimizers.SGD(momentum=0.0)


# -- clipping ------------------------------------------------------------------------------------

@pytest.mark.parametrize("clip_norm", [0.5, 3.0, 100.0])
def test_clip_by_global_norm_against_numpy(clip_norm):
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(3, 4)).astype(np.float32), None,
              rng.normal(size=(5,)).astype(np.float32)]
    clipped, norm = ef.clip_by_global_norm([None if a is None else ef.constant(a)
                                            for a in arrays], clip_norm)
    gn = np.sqrt(sum(np.sum(a.astype(np.float64) ** 2) for a in arrays if a is not None))
    np.testing.assert_allclose(float(norm), gn, rtol=1e-6)
    assert clipped[1] is None and norm.dtype == ef.float32
    for got, a in zip(clipped, arrays):
        if a is not None:
            assert got.dtype == ef.float32
            np.testing.assert_allclose(got.numpy(), a * clip_norm / max(gn, clip_norm),
                                       rtol=1e-6)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf, on purpose
def test_clip_by_global_norm_of_an_infinite_norm_is_nan():
    clipped, norm = ef.clip_by_global_norm([ef.constant([np.inf, 1.0]), ef.constant([2.0])], 1.0)
    assert float(norm) == np.inf
    assert all(np.isnan(c.numpy()).all() for c in clipped)
    with pytest.raises(ef.ArgumentTypeError, match="must be a list of tensors"):
        ef.clip_by_global_norm(ef.constant([1.0]), 1.0)


@pytest.mark.parametrize("axes", [None, 0, 1, [0, 1]])
def test_clip_by_norm_against_numpy(axes):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 6)) * np.array([[0.01], [1.0], [3.0], [0.2]])
    got = ef.clip_by_norm(ef.constant(a), 1.5, axes=axes).numpy()
    ax = tuple(axes) if isinstance(axes, list) else axes
    norm = np.sqrt(np.sum(a * a, axis=ax, keepdims=True))
    np.testing.assert_allclose(got, a * 1.5 / np.maximum(norm, 1.5), rtol=1e-12)


def test_clip_by_norm_gradient_matches_torch_and_is_finite_at_zero():
    a = np.array([3.0, 4.0, 0.5])
    x = ef.constant(a)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.sum(ef.clip_by_norm(x, 2.0) * ef.constant([1.0, -2.0, 0.5]))
    t = torch.tensor(a, requires_grad=True)
    (t * 2.0 / torch.clamp(t.norm(), min=2.0) * torch.tensor([1.0, -2.0, 0.5])).sum().backward()
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), t.grad.numpy(), rtol=1e-12)
    z = ef.zeros((3,), dtype=ef.float64)
    with ef.GradientTape() as tape:
        tape.watch(z)
        y = ef.sum(ef.clip_by_norm(z, 1.0))
    assert np.isfinite(tape.gradient(y, z).numpy()).all()
    assert not ef.clip_by_norm(z, 1.0).numpy().any()
    with pytest.raises(ef.DTypeError, match="clip_by_norm: expected a real floating-point"):
        ef.clip_by_norm(ef.constant([1, 2]), 1.0)
