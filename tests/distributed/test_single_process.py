"""The distributed API in one process: before ``init()``, and in the world of one process that
``init()`` makes without mpi4py (which these tests hide, so the test process never starts MPI).
The same script must run this way with nothing installed."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core import distributed as dist
from eagerflow_core.distributed import _world, collectives

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_mpi4py(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # `from mpi4py import MPI` fails
    for var in _world._SIZE_VARS + ("EAGERFLOW_DIST_TIMEOUT", "EAGERFLOW_DIST_CHECK"):
        monkeypatch.delenv(var, raising=False)
    dist.shutdown()
    yield
    dist.shutdown()


@pytest.fixture
def world(no_mpi4py):
    dist.init()
    return _world.WORLD


# -- before init -----------------------------------------------------------------------------

def test_before_init_queries_answer_as_rank_0_of_1_and_collectives_refuse(no_mpi4py, capsys):
    assert not dist.is_initialized()
    assert (dist.rank(), dist.size(), dist.local_rank(), dist.local_size()) == (0, 1, 0, 1)
    for call in (lambda: dist.all_reduce(ef.ones(2)), dist.barrier,
                 lambda: dist.DistributedOptimizer(ef.optimizers.SGD()).apply_gradients([])):
        with pytest.raises(dist.DistributedError, match=r"call dist\.init\(\) first"):
            call()
    dist.print0("only rank 0")
    assert capsys.readouterr().out == "only rank 0\n"
    assert dist.rank_zero_only(lambda: 5)() == 5
    assert dist.save_on_rank0(lambda: "saved") == "saved"


# -- init ------------------------------------------------------------------------------------

def test_init_without_mpi4py_makes_a_world_of_one(world):
    assert dist.is_initialized() and (dist.rank(), dist.size()) == (0, 1)
    assert dist.communicator().name == "self" and world.MPI is None
    dist.init()  # again: nothing changes
    assert dist.size() == 1


def test_init_without_mpi4py_under_a_launcher_says_what_to_install(no_mpi4py, monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    with pytest.raises(dist.DistributedError, match=r"one of 4 ranks.*pip install "
                                                    r"'eagerflow-core\[mpi\]'"):
        dist.init()
    assert not dist.is_initialized()


def test_timeout_and_check_come_from_init_or_the_environment(no_mpi4py, monkeypatch):
    monkeypatch.setenv("EAGERFLOW_DIST_TIMEOUT", "2.5")
    monkeypatch.setenv("EAGERFLOW_DIST_CHECK", "1")
    dist.init()
    assert (_world.WORLD.timeout, _world.WORLD.check) == (2.5, True)
    dist.init(timeout=7, check=False)  # a second init updates both
    assert (_world.WORLD.timeout, _world.WORLD.check) == (7.0, False)
    dist.init(timeout=float("inf"))
    for bad in (0, -1, float("nan")):
        with pytest.raises(dist.DistributedError, match="seconds > 0"):
            dist.init(timeout=bad)
    dist.shutdown()
    monkeypatch.setenv("EAGERFLOW_DIST_TIMEOUT", "soon")
    with pytest.raises(dist.DistributedError, match="EAGERFLOW_DIST_TIMEOUT='soon'"):
        dist.init()


def test_importing_eagerflow_never_imports_mpi4py():
    code = ("import sys, eagerflow_core as ef; from eagerflow_core import distributed; "
            "print('mpi4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip() == "False"


# -- collectives in a world of one: the identity, on the input's device ----------------------

def test_collectives_of_one_rank(world):
    x = ef.asarray(np.arange(6.0).reshape(3, 2))
    for got in (dist.all_reduce(x), dist.all_reduce(x, "mean"), dist.all_reduce(x, "max"),
                dist.broadcast(x), dist.all_gather(x), dist.reduce_scatter(x),
                dist.gather(x), dist.scatter(x)):
        assert got is not x and np.array_equal(got.numpy(), x.numpy())
        assert got.dtype == x.dtype and got.device == x.device
    assert dist.all_gather(ef.asarray(3.0)).shape == (1,)
    dist.send(x, dest=0, tag=4)
    dist.send(ef.ones(1, dtype=ef.int8), dest=0, tag=4)
    assert np.array_equal(dist.recv(0, tag=4).numpy(), x.numpy())
    assert dist.recv(0, tag=4).dtype == ef.int8
    dist.barrier()


def test_gradients_of_one_rank_through_the_composites(world):
    x = ef.constant([1.0, -2.0, 3.0])
    assert np.allclose(ef.grad(lambda t: ef.sum(dist.all_reduce(t) ** 2))(x).numpy(), 2 * x.numpy())
    assert np.allclose(ef.grad(lambda t: ef.sum(dist.all_gather(t) * 3))(x).numpy(), 3.0)
    assert np.allclose(ef.grad(lambda t: ef.sum(dist.all_reduce(t, "max")))(x).numpy(), 1.0)
    assert np.allclose(ef.grad(lambda t: ef.sum(dist.broadcast(t) * t))(x).numpy(), 2 * x.numpy())
    second = ef.grad(ef.grad(lambda t: ef.sum(dist.reduce_scatter(t ** 3))))
    assert np.allclose(second(ef.constant(2.0)[None]).numpy(), 12.0)


def test_collective_ops_have_dtype_and_shape_rules(world):
    for fn, shape, want in ((collectives._all_reduce, (4, 2), (4, 2)),
                            (collectives._all_gather, (4, 2), (4, 2)),
                            (collectives._all_gather, (), (1,)),
                            (collectives._reduce_scatter, (4, 2), (4, 2))):
        assert fn.op.shape_rule(shape) == want
        assert fn.op.dtype_rule(ef.float16) is ef.float16


# -- buckets ---------------------------------------------------------------------------------

def _spy_buckets(monkeypatch):
    started = []
    real = collectives.start

    def spy(name, x, **kw):
        started.append((name, x.dtype.name, x.shape))
        return real(name, x, **kw)
    monkeypatch.setattr(collectives, "start", spy)
    return started


def test_bucketer_packs_in_order_under_the_cap_and_unpacks(world, monkeypatch):
    started = _spy_buckets(monkeypatch)
    b = dist.Bucketer("all_reduce", op="sum", bucket_bytes=1000)
    parts = {"a": ef.ones((10, 10)), "b": ef.full((5, 20), 2.0), "c": ef.zeros(3),
             "d": ef.ones(3, dtype=ef.float64), "big": ef.ones(400)}
    for key, t in parts.items():
        b.add(key, t)
    out = b.finish()
    for key, t in parts.items():
        assert out[key].shape == t.shape and out[key].dtype == t.dtype
        assert np.array_equal(out[key].numpy(), t.numpy()), key
    # a, b and c (812 B) share a float32 bucket until `big` (1600 B) would overflow it; big
    # goes alone (it fills a bucket by itself); the float64 d has its own, sent by finish().
    assert started == [("all_reduce", "float32", (203,)), ("all_reduce", "float32", (400,)),
                       ("all_reduce", "float64", (3,))]


def test_bucketer_refuses_what_it_cannot_average(world):
    with pytest.raises(ef.DTypeError, match="averaging needs a floating-point"):
        dist.Bucketer().add("step", ef.ones(2, dtype=ef.int64))
    with pytest.raises(ef.InvalidArgumentError, match="bucket_bytes=0"):
        dist.Bucketer(bucket_bytes=0)
    with pytest.raises(ef.InvalidArgumentError, match="op='max'"):
        dist.Bucketer(op="max")


def test_grouped_all_reduce_keeps_order_and_nones(world):
    got = dist.grouped_all_reduce([ef.ones(2), None, ef.zeros((1, 1))], bucket_bytes=4)
    assert got[1] is None and got[0].shape == (2,) and got[2].shape == (1, 1)


def test_distributed_optimizer_wraps_and_forwards(world):
    inner = ef.optimizers.SGD(0.25)
    opt = dist.DistributedOptimizer(inner, bucket_bytes=128)
    assert float(opt.learning_rate) == 0.25 and opt.optimizer is inner and "128" in repr(opt)
    opt.learning_rate = 0.5  # sets the wrapped optimizer's
    assert float(inner.learning_rate) == 0.5
    w, unused = ef.Variable([2.0, 4.0], name="w"), ef.Variable([1.0], name="unused")
    with ef.GradientTape() as tape:
        loss = ef.sum(w * w)
    # The None gradient reaches the optimizer, which skips its variable and says so.
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['unused'\]"):
        opt.apply_gradients(zip(tape.gradient(loss, [w, unused]), [w, unused]))
    assert np.allclose(w.numpy(), [0.0, 0.0]) and unused.numpy().tolist() == [1.0]
    assert int(opt.iterations) == 1
    with ef.GradientTape() as tape:
        loss = ef.sum((w - 1.0) ** 2)
    assert opt.minimize(loss, [w], tape=tape) is loss
    assert np.allclose(w.numpy(), [1.0, 1.0])
    with pytest.raises(ef.ArgumentTypeError, match="has none"):
        dist.DistributedOptimizer(object())
    with pytest.raises(ef.ArgumentTypeError, match="loss must be a callable"):
        opt.minimize(loss, [w])


def test_broadcast_variables_takes_variables_only(world):
    w = ef.Variable([1.0])
    dist.broadcast_variables({"layer": [w]})
    with pytest.raises(ef.ArgumentTypeError, match="expected ef.Variable"):
        dist.broadcast_variables([ef.ones(2)])
    with pytest.raises(ef.InvalidArgumentError, match="root=1"):
        dist.broadcast_variables([w], root=1)


# -- rank-0 helpers --------------------------------------------------------------------------

def test_logger_speaks_on_rank_0_only(world, monkeypatch, caplog):
    log = dist.get_logger("eagerflow.test")
    with caplog.at_level(logging.INFO, logger="eagerflow.test"):
        log.info("from rank 0")
        monkeypatch.setattr(_world.WORLD, "rank", 1)
        monkeypatch.setattr(_world.WORLD, "size", 2)
        log.info("from rank 1, dropped")
        dist.get_logger("eagerflow.test", all_ranks=True).info("from rank 1, kept")
    assert [r.getMessage() for r in caplog.records] == ["from rank 0",
                                                       "[rank 1/2] from rank 1, kept"]
    assert [r.rank for r in caplog.records] == [0, 1]
    assert dist.rank_zero_only(lambda: 1)() is None


def test_save_on_rank0_calls_a_managers_save(world):
    class Manager:
        def save(self, step):
            return f"ckpt-{step}"
    assert dist.save_on_rank0(Manager(), 3) == "ckpt-3"
    with pytest.raises(TypeError, match="callable or an object with .save"):
        dist.save_on_rank0(42)


def test_the_example_runs_without_mpi4py():
    """examples/distributed/train_mlp.py, the script of the docs, with mpi4py hidden."""
    code = ("import sys, runpy; sys.modules['mpi4py'] = None; sys.argv = ['train_mlp.py', "
            "'--steps', '3']; runpy.run_path('examples/distributed/train_mlp.py', "
            "run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 rank" in proc.stdout and "step 3" in proc.stdout, proc.stdout
