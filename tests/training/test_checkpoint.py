"""ef.train checkpoints (issue #7, item 8): round trips by attribute path, optimizer slots,
deferred restore into objects made later, clear mismatch errors, never unpickling, atomic
saves that survive SIGKILL, and the CheckpointManager."""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import eagerflow_core as ef
from _training_models import Lazy
from eagerflow_core.train import _io

CHILD = Path(__file__).with_name("_ckpt_child.py")


class Model(ef.Module):
    def __init__(self):
        super().__init__()
        self.layers = [Lazy(4), Lazy(2)]
        self.extras = {"scale": ef.Variable(1.5, name="scale"),
                       "count": ef.Variable(0, trainable=False, name="count")}

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x * self.extras["scale"]


X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)


def _train(model, opt, steps):
    x = ef.constant(X)
    for _ in range(steps):
        opt.minimize(lambda: ef.sum(model(x) ** 2), lambda: model.trainable_variables)
        model.extras["count"].assign_add(1)


def _values(objs):
    return [v.numpy().copy() for v in objs]


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# -- round trips ------------------------------------------------------------------------------

def test_round_trip_of_model_optimizer_and_step(tmp_path):
    model, opt = Model(), ef.optimizers.Adam(0.05)
    _train(model, opt, 3)
    step = ef.Variable(3, name="step")
    ckpt = ef.train.Checkpoint(model=model, optimizer=opt, step=step)
    path = ckpt.save(tmp_path / "run")
    assert path == str(tmp_path / "run-1") and os.path.isfile(path + ".npz")
    saved = _values(model.variables) + _values(opt.variables) + [step.numpy()]
    _train(model, opt, 2)
    step.assign(99)
    status = ckpt.restore(path)
    status.assert_consumed().assert_existing_objects_matched().assert_nontrivial_match()
    _assert_same(_values(model.variables) + _values(opt.variables) + [step.numpy()], saved)
    assert int(opt.iterations) == 3


def test_keys_are_attribute_paths_and_slots_follow_their_variable(tmp_path):
    model, opt = Model(), ef.optimizers.SGD(0.1, momentum=0.9)
    _train(model, opt, 1)
    path = ef.train.Checkpoint(model=model, optimizer=opt).write(tmp_path / "w")
    assert path == str(tmp_path / "w")
    with np.load(path + ".npz", allow_pickle=False) as npz:
        keys = sorted(npz.files)
        np.testing.assert_array_equal(npz["model/layers/0/kernel"], model.layers[0].kernel.numpy())
    assert keys == sorted([
        ".meta", "save_counter", "optimizer/iterations", "optimizer/_learning_rate",
        "model/extras/scale", "model/extras/count",
        "model/extras/scale/.OPTIMIZER_SLOT/optimizer/momentum",
        *[f"model/layers/{i}/{n}" for i in (0, 1) for n in ("kernel", "bias")],
        *[f"model/layers/{i}/{n}/.OPTIMIZER_SLOT/optimizer/momentum"
          for i in (0, 1) for n in ("kernel", "bias")]])


def test_a_shared_variable_is_saved_once_at_its_shortest_path(tmp_path):
    shared = ef.Variable([1.0, 2.0])
    deep = ef.Module()
    deep.inner = {"w": shared}
    ckpt = ef.train.Checkpoint(a=[deep], b=shared)
    path = ckpt.write(tmp_path / "c")
    with np.load(path + ".npz") as npz:
        assert "b" in npz.files and "a/0/inner/w" not in npz.files
    shared.assign([0.0, 0.0])
    ckpt.restore(path).assert_consumed()
    np.testing.assert_array_equal(shared.numpy(), [1.0, 2.0])


def test_dtypes_round_trip_including_bfloat16(tmp_path):
    vs = {name: ef.Variable(ef.astype(ef.constant([1.5, -2.25, 3.0]), getattr(ef, name)))
          for name in ("float16", "bfloat16", "float32", "float64", "int8", "int64", "bool")}
    vs["complex64"] = ef.Variable(ef.constant([1 + 2j, 3 - 1j], dtype=ef.complex64))
    before = {k: v.numpy().copy() for k, v in vs.items()}
    ckpt = ef.train.Checkpoint(**vs)
    path = ckpt.write(tmp_path / "d")
    for v in vs.values():
        v.assign(ef.zeros_like(v.read_value()))
    ckpt.restore(path).assert_consumed()
    for k, v in vs.items():
        assert v.dtype == getattr(ef, k) and v.numpy().dtype == before[k].dtype
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_save_numbers_the_files_and_the_state_file_names_the_latest(tmp_path):
    step = ef.Variable(0)
    ckpt = ef.train.Checkpoint(step=step)
    paths = [ckpt.save(str(tmp_path / "run")) for _ in range(3)]
    assert [os.path.basename(p) for p in paths] == ["run-1", "run-2", "run-3"]
    assert ef.train.latest_checkpoint(tmp_path) == paths[-1]
    state = json.loads((tmp_path / "checkpoint").read_text())
    assert state["model_checkpoint_path"] == "run-3"
    assert state["all_model_checkpoint_paths"] == ["run-1", "run-2", "run-3"]
    fresh = ef.train.Checkpoint(step=ef.Variable(0))
    fresh.restore(paths[0]).assert_consumed()
    assert int(fresh.save_counter) == 1  # the counter is saved: numbering continues from it
    assert os.path.basename(fresh.save(str(tmp_path / "run"))) == "run-2"
    assert ef.train.latest_checkpoint(tmp_path / "nowhere") is None
    ckpt.restore(paths[1] + ".npz").assert_consumed()  # the file's own name works too


# -- deferred restore ---------------------------------------------------------------------------

def test_deferred_restore_into_lazily_built_modules_and_unmade_slots(tmp_path):
    model, opt = Model(), ef.optimizers.Adam(0.05)
    _train(model, opt, 3)
    path = ef.train.Checkpoint(model=model, optimizer=opt).save(tmp_path / "run")
    want_model, want_opt = _values(model.variables), _values(opt.variables)

    model2, opt2 = Model(), ef.optimizers.Adam(0.5)
    status = ef.train.Checkpoint(model=model2, optimizer=opt2).restore(path)
    assert int(opt2.iterations) == 3 and float(opt2.learning_rate) == pytest.approx(0.05)
    with pytest.raises(AssertionError, match="were not restored.*model/layers/0/kernel"):
        status.assert_consumed()
    status.assert_existing_objects_matched()  # what exists now did get its value
    model2(ef.constant(X))  # builds the layers: their Variables get the saved values at once
    _assert_same(_values(model2.variables), want_model)
    with pytest.raises(AssertionError, match="OPTIMIZER_SLOT/optimizer/momentum"):
        status.assert_consumed()  # the slots are not made yet
    _train(model, opt, 2)
    _train(model2, opt2, 2)  # the first step makes the slots from the saved values
    status.assert_consumed()
    _assert_same(_values(model2.variables), _values(model.variables))
    _assert_same(_values(opt2.variables), _values(opt.variables))
    assert len(want_opt) == len(_values(opt2.variables))


def test_deferred_restore_into_attributes_and_list_items_added_later(tmp_path):
    src = ef.Module()
    src.head = ef.Variable([1.0, 2.0])
    src.blocks = [ef.Variable([3.0]), ef.Variable([4.0])]
    path = ef.train.Checkpoint(net=src).write(tmp_path / "c")

    dst = ef.Module()
    dst.blocks = [ef.Variable([0.0])]
    ckpt = ef.train.Checkpoint()
    status = ckpt.restore(path)
    ckpt.net = dst  # the root's attribute appears after the restore
    np.testing.assert_array_equal(dst.blocks[0].numpy(), [3.0])
    dst.head = ef.Variable([0.0, 0.0])  # an attribute made later
    np.testing.assert_array_equal(dst.head.numpy(), [1.0, 2.0])
    dst.blocks.append(ef.Variable([0.0]))  # a list that grows: found when the Module is walked
    assert len(dst.variables) == 3
    assert [float(v.numpy()[0]) for v in dst.blocks] == [3.0, 4.0]
    status.assert_consumed()


def test_restoring_into_a_placeholder_waits_for_the_real_object(tmp_path):
    src = Lazy(3)
    src(ef.ones((1, 2)))
    path = ef.train.Checkpoint(layer=src).write(tmp_path / "c")
    dst = Lazy(3)  # dst.kernel is None until the first call
    status = ef.train.Checkpoint(layer=dst).restore(path)
    dst(ef.ones((1, 2)))
    status.assert_consumed()
    np.testing.assert_array_equal(dst.kernel.numpy(), src.kernel.numpy())


# -- mismatches ---------------------------------------------------------------------------------

def test_a_shape_or_dtype_mismatch_names_the_path_and_both_sides(tmp_path):
    src = Lazy(3)
    src(ef.ones((1, 2)))
    path = ef.train.Checkpoint(layer=src).write(tmp_path / "c")
    dst = Lazy(3)
    ef.train.Checkpoint(layer=dst).restore(path)
    with pytest.raises(ef.ShapeError, match=r"the value saved at 'layer/kernel' has shape "
                                            r"\(2, 3\) and dtype float32, but Variable "
                                            r"'kernel' there has shape \(5, 3\) and dtype "
                                            r"float32"):
        dst(ef.ones((1, 5)))  # built for another input size: the deferred restore refuses it
    other = ef.Module()
    other.kernel = ef.Variable(ef.zeros((2, 3), dtype=ef.float64))
    with pytest.raises(ef.DTypeError, match=r"'layer/kernel' has shape \(2, 3\) and dtype "
                                            r"float32, but .* dtype float64"):
        ef.train.Checkpoint(layer=other).restore(path)
    wrong_kind = ef.Module()
    wrong_kind.kernel = [ef.Variable(1.0)]
    with pytest.raises(ef.ArgumentTypeError, match="has a Variable at 'layer/kernel'; the "
                                                   "program has a list there"):
        ef.train.Checkpoint(layer=wrong_kind).restore(path)


def test_unmatched_objects_and_values_are_reported(tmp_path):
    src = ef.Module()
    src.a = ef.Variable(1.0)
    path = ef.train.Checkpoint(m=src).write(tmp_path / "c")
    dst = ef.Module()
    dst.a, dst.b = ef.Variable(0.0), ef.Variable(0.0)
    status = ef.train.Checkpoint(m=dst).restore(path)
    with pytest.raises(AssertionError, match="1 Variable.* no value .*'m/b'"):
        status.assert_existing_objects_matched()
    assert status.expect_partial() is status
    empty = ef.train.Checkpoint(other=ef.Variable(0.0)).restore(path)
    with pytest.raises(AssertionError, match="nothing in checkpoint"):
        empty.assert_nontrivial_match()
    with pytest.raises(AssertionError, match="no checkpoint was given"):
        ef.train.Checkpoint(m=dst).restore(None).assert_consumed()


def test_bad_arguments_are_clear(tmp_path):
    assert isinstance(ef.train.Checkpoint(), ef.Module)  # attributes set later are tracked
    with pytest.raises(TypeError, match=r"model= must be an ef.Module.*got int"):
        ef.train.Checkpoint(model=3)
    with pytest.raises(ValueError, match="'save' is a name Checkpoint uses"):
        ef.train.Checkpoint(save=ef.Variable(1.0))
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        ef.train.Checkpoint().restore(tmp_path / "missing")
    with pytest.raises(ValueError, match="is a directory"):
        ef.train.Checkpoint().restore(tmp_path)
    with pytest.raises(TypeError, match="dict key must be a str or an int"):
        ef.train.Checkpoint(d={1.5: ef.Variable(1.0)}).write(tmp_path / "x")


# -- never unpickling ----------------------------------------------------------------------------

class _Exploit:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_pickled_payload_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    # 1. an .npz that holds an object array (np.save pickles it) next to a valid meta entry
    payload = np.empty(1, dtype=object)
    payload[0] = _Exploit(marker)
    meta = json.dumps({"format": "eagerflow-checkpoint", "version": 1,
                       "dtypes": {"w": "float32"}}).encode()
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as zf:
        for key, arr in ((".meta", np.frombuffer(meta, np.uint8)), ("w", payload)):
            buf = io.BytesIO()
            np.save(buf, arr, allow_pickle=True)
            zf.writestr(key + ".npy", buf.getvalue())
    ckpt = ef.train.Checkpoint(w=ef.Variable([0.0]))
    with pytest.raises(ef.train.CheckpointFormatError, match="pickled object array.*never "
                                                             "unpickles"):
        ckpt.restore(tmp_path / "evil")
    # 2. a plain pickle named like a checkpoint
    (tmp_path / "raw.npz").write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(ef.train.CheckpointFormatError, match="not an eagerflow checkpoint"):
        ckpt.restore(tmp_path / "raw")
    # 3. a lone .npy holding a pickle
    np.save(tmp_path / "lone.npz", payload, allow_pickle=True)
    os.replace(tmp_path / "lone.npz.npy", tmp_path / "lone.npz")
    with pytest.raises(ef.train.CheckpointFormatError):
        ckpt.restore(tmp_path / "lone")
    assert not marker.exists()
    np.testing.assert_array_equal(ckpt.w.numpy(), [0.0])


def test_an_archive_without_the_format_entry_is_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.zeros(1, np.float32))
    with pytest.raises(ef.train.CheckpointFormatError, match="no '.meta' entry"):
        ef.train.Checkpoint(w=ef.Variable([1.0])).restore(tmp_path / "plain")


# -- atomic saves --------------------------------------------------------------------------------

def _child(directory, mode, n):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, str(CHILD), str(directory), mode, str(n)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(proc, word, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if word in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"child exited ({proc.returncode}): {proc.stderr.read()}")
    proc.kill()
    raise AssertionError(f"child never printed {word}")


def _restore_latest(directory, n):
    w, extra = ef.Variable(ef.zeros((n,))), ef.Variable(ef.zeros((3, 3)))
    path = ef.train.latest_checkpoint(directory)
    ef.train.Checkpoint(w=w, extra=extra).restore(path).assert_consumed()
    return path, w.numpy(), extra.numpy()


def test_a_save_killed_midway_leaves_the_previous_checkpoint_loadable(tmp_path):
    n = 1 << 20  # 4 MB, written 16 KB at a time with a pause: over a second to write
    proc = _child(tmp_path, "slow", n)
    _wait_for(proc, "WRITING")
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers and leftovers[0].startswith(".ckpt-2.npz.")  # killed inside the write
    assert not (tmp_path / "ckpt-2.npz").exists()
    path, w, extra = _restore_latest(tmp_path, n)
    assert os.path.basename(path) == "ckpt-1"
    assert (w == 1.0).all() and (extra == 1.0).all()
    # and the directory goes on working: a new manager saves after the crash
    v = ef.Variable(ef.full((n,), 5.0))
    e = ef.Variable(ef.full((3, 3), 5.0))
    manager = ef.train.CheckpointManager(ef.train.Checkpoint(w=v, extra=e), tmp_path)
    assert manager.checkpoints == [str(tmp_path / "ckpt-1")]
    manager.save()
    assert _restore_latest(tmp_path, n)[1][0] == 5.0


def test_saves_killed_at_any_moment_never_damage_the_last_good_one(tmp_path):
    n = 4 << 20  # 16 MB per save, saved over and over until the kill
    proc = _child(tmp_path, "loop", n)
    _wait_for(proc, "SAVING")
    time.sleep(float(np.random.default_rng().uniform(0.1, 0.8)))  # any moment will do
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    path, w, extra = _restore_latest(tmp_path, n)
    k = w[0]
    assert k >= 1 and (w == k).all() and (extra == k).all()  # one whole, consistent save
    state = _io.read_state(str(tmp_path))
    for name in state["all_model_checkpoint_paths"]:  # every recorded one is whole
        values, _ = _io.read_values(str(tmp_path / name) + ".npz")
        assert (values["w"] == values["w"][0]).all()


# -- the manager ---------------------------------------------------------------------------------

def test_manager_keeps_max_to_keep_and_deletes_older_files(tmp_path):
    step = ef.Variable(0)
    manager = ef.train.CheckpointManager(ef.train.Checkpoint(step=step), tmp_path, max_to_keep=3,
                                         checkpoint_name="model")
    assert manager.latest_checkpoint is None and manager.checkpoints == []
    for _ in range(5):
        step.assign_add(1)
        manager.save()
    names = [os.path.basename(p) for p in manager.checkpoints]
    assert names == ["model-3", "model-4", "model-5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint", "model-3.npz", "model-4.npz", "model-5.npz"]
    assert manager.latest_checkpoint == ef.train.latest_checkpoint(tmp_path)
    assert manager.save(checkpoint_number=ef.Variable(42)).endswith("model-42")
    reopened = ef.train.CheckpointManager(ef.train.Checkpoint(step=ef.Variable(0)), tmp_path,
                                          max_to_keep=2, checkpoint_name="model")
    assert [os.path.basename(p) for p in reopened.checkpoints] == ["model-4", "model-5",
                                                                   "model-42"]
    assert reopened.restore_or_initialize().endswith("model-42")
    assert int(reopened.checkpoint.step) == 5
    reopened.save()
    assert [os.path.basename(p) for p in reopened.checkpoints] == ["model-42", "model-7"]
    assert not (tmp_path / "model-4.npz").exists()


def test_manager_options(tmp_path, monkeypatch):
    ckpt = ef.train.Checkpoint(v=ef.Variable(1.0))
    keep_all = ef.train.CheckpointManager(ckpt, tmp_path / "all", max_to_keep=None)
    for _ in range(7):
        keep_all.save()
    assert len(keep_all.checkpoints) == 7
    step = ef.Variable(0)
    every = ef.train.CheckpointManager(ckpt, tmp_path / "every", step_counter=step,
                                       checkpoint_interval=10)
    saved = []
    for s in range(25):
        step.assign(s)
        saved.append(every.save() is not None)
    assert [i for i, ok in enumerate(saved) if ok] == [0, 10, 20]
    clock = iter(range(0, 10 ** 6, 1800))  # half an hour per save
    monkeypatch.setattr(time, "time", lambda: float(next(clock)))
    hourly = ef.train.CheckpointManager(ckpt, tmp_path / "hourly", max_to_keep=1,
                                        keep_checkpoint_every_n_hours=1)
    for _ in range(6):
        hourly.save()
    kept = sorted(p.name for p in (tmp_path / "hourly").iterdir() if p.suffix == ".npz")
    assert len(kept) > 1 and len(hourly.checkpoints) == 1  # one kept per hour, unmanaged
    called = []
    fresh = ef.train.CheckpointManager(ckpt, tmp_path / "fresh", init_fn=lambda: called.append(1))
    assert fresh.restore_or_initialize() is None and called == [1]
    with pytest.raises(ValueError, match="max_to_keep must be a positive"):
        ef.train.CheckpointManager(ckpt, tmp_path, max_to_keep=0)
    with pytest.raises(ValueError, match="expected an ef.train.Checkpoint"):
        ef.train.CheckpointManager(ef.Module(), tmp_path)
