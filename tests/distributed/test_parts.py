"""The parts of the distributed package that need no second process: NCCL's communicator on
stand-in CuPy/NCCL modules (unique-id exchange, dtype mapping, argument packing), the
check-mode headers and their error messages, and the recycled output buffers. The same NCCL
code runs over MPI between processes in ``ranks/devices.py``; on a GPU machine the last test
runs it on real NCCL."""

from __future__ import annotations

import gc

import fake_cupy
import numpy as np
import pytest

import eagerflow_core as ef
from eagerflow_core._tensor import new_tensor
from eagerflow_core.distributed import CommInfo, CollectiveMismatchError, _header
from eagerflow_core.distributed._buffers import MIN_BYTES, BufferCache
from eagerflow_cuda.nccl import (NcclCommunicator, exchange_unique_id, nccl_available,
                                 pack_unique_id, unpack_unique_id)


class _Device:
    index = 0

    def __str__(self):
        return "cuda:0"


def _info(rank=0, size=1, sent=None):
    """A CommInfo whose broadcast_bytes hands every rank what rank 0 sent (``sent``)."""
    box = {}

    def broadcast_bytes(data, root):
        if rank == root:
            box["data"] = data
            return data
        return sent
    info = CommInfo(rank=rank, size=size, local_rank=rank, local_size=size, device=_Device(),
                    mpi_comm=None, broadcast_bytes=broadcast_bytes)
    return info, box


# -- the NCCL unique id ----------------------------------------------------------------------

def test_unique_id_survives_the_trip_in_either_form():
    signed = tuple(range(-128, 0)) + tuple(range(0, 0))
    assert len(signed) == 128
    packed = pack_unique_id(signed)
    assert len(packed) == 129 and packed[0] == 0 and unpack_unique_id(packed) == signed
    raw = bytes(range(128))
    assert unpack_unique_id(pack_unique_id(raw)) == raw
    with pytest.raises(ValueError, match="128 bytes, got 3"):
        pack_unique_id((1, 2, 3))


def test_rank_0_makes_the_id_and_the_others_receive_it():
    _, nccl = fake_cupy.make(seed=5)
    info0, box = _info(rank=0, size=2)
    uid = exchange_unique_id(info0, nccl)
    assert uid == nccl.get_unique_id() and len(box["data"]) == 129
    info1, _ = _info(rank=1, size=2, sent=box["data"])
    assert exchange_unique_id(info1, nccl) == uid


# -- NCCL's communicator: what it hands NCCL -------------------------------------------------

@pytest.fixture
def nccl_comm():
    cupy, nccl = fake_cupy.make()
    info, _ = _info()
    comm = NcclCommunicator(info, cupy=cupy, nccl=nccl)
    return comm, cupy, nccl


def _last(nccl, name):
    return [c for c in nccl.calls if c[0] == name][-1]


# int16/uint16 go to NCCL as 32-bit integers, bool as uint8, complex as pairs of reals.
@pytest.mark.parametrize("dtype, nccl_type, count_per", [
    ("float32", 7, 1), ("float64", 8, 1), ("float16", 6, 1), ("int8", 0, 1), ("uint8", 1, 1),
    ("int32", 2, 1), ("uint64", 5, 1), ("int16", 2, 1), ("uint16", 3, 1), ("bool", 1, 1),
    ("complex64", 7, 2), ("complex128", 8, 2)])
def test_all_reduce_packs_dtype_count_and_op(nccl_comm, dtype, nccl_type, count_per):
    comm, cupy, nccl = nccl_comm
    x = cupy.ascontiguousarray(np.arange(12).reshape(3, 4).astype(dtype))
    op = "max" if dtype == "bool" else "sum"
    work = comm.all_reduce(x, op)
    assert work.test()
    result = work.result()
    _, count, ntype, nop, stream = _last(nccl, "allReduce")
    assert (count, ntype, nop, stream) == (12 * count_per, nccl_type, 2 if op == "max" else 0,
                                          1234)
    assert result.dtype == np.dtype(dtype) and np.array_equal(result, x)


def test_reduce_scatter_broadcast_and_gathers_pack_bytes(nccl_comm):
    comm, cupy, nccl = nccl_comm
    x = cupy.ascontiguousarray(np.arange(12, dtype=np.float64).reshape(6, 2))
    assert np.array_equal(comm.reduce_scatter(x, "min").result(), x)
    assert _last(nccl, "reduceScatter")[1:4] == (12, 8, 3)   # recvcount, float64, min
    assert np.array_equal(comm.broadcast(x, 0).result(), x)
    assert _last(nccl, "broadcast")[1:4] == (96, 1, 0)       # bytes as uint8, root 0
    assert np.array_equal(comm.all_gather(x).result(), x)
    assert _last(nccl, "allGather")[1:3] == (96, 1)
    assert comm.all_gather(cupy.ascontiguousarray(np.float32(2.0))).result().shape == (1,)
    # A world of one: gather and scatter are a device-to-device copy, no send or receive.
    assert np.array_equal(comm.gather(x, 0).result(), x)
    assert np.array_equal(comm.scatter(x, 0, (6, 2), ef.float64).result(), x)
    assert _last(nccl, "memcpyAsync")[1:] == (96, 3, 1234)
    assert not [c for c in nccl.calls if c[0] in ("send", "recv")]


def test_strided_inputs_are_made_contiguous_and_never_written(nccl_comm):
    comm, cupy, _ = nccl_comm
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    view = base.T[::2].view(fake_cupy.FakeArray)
    out = comm.all_reduce(view, "sum").result()
    assert np.array_equal(out, base.T[::2]) and np.array_equal(base, np.arange(24).reshape(4, 6))


def test_nccl_refuses_what_it_cannot_reduce_and_aborts_and_closes(nccl_comm):
    comm, cupy, nccl = nccl_comm
    with pytest.raises(TypeError, match="NCCL cannot reduce bfloat16"):
        comm.all_reduce(cupy.ascontiguousarray(np.ones(2, ef.bfloat16.numpy)), "sum")
    comm.abort()
    comm.close()
    assert nccl.calls[-2:] == [("abort",), ("destroy",)]


def test_nccl_availability_names_the_reason():
    ok, why = nccl_available()
    try:
        from cupy.cuda import nccl
    except Exception:
        assert not ok and "cupy.cuda.nccl cannot be imported" in why
    else:
        assert ok == nccl.available and (ok or "cannot load the NCCL library" in why)


def _cuda_device_count():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:
        return 0


@pytest.mark.skipif(_cuda_device_count() < 1, reason="no CUDA device")
def test_real_nccl_on_one_gpu():
    """A world of one GPU on real NCCL: the same calls the stand-ins checked."""
    import cupy
    ok, why = nccl_available()
    assert ok, why
    info, _ = _info()
    comm = NcclCommunicator(info)
    x = cupy.arange(12, dtype=cupy.float32).reshape(3, 4)
    for work in (comm.all_reduce(x, "sum"), comm.broadcast(x, 0), comm.reduce_scatter(x, "max")):
        while not work.test():
            pass
        assert cupy.array_equal(work.result(), x)
    gathered = comm.all_gather(x)
    while not gathered.test():
        pass
    assert gathered.result().shape == (3, 4)
    comm.close()


# -- headers ---------------------------------------------------------------------------------

def test_header_round_trip():
    h = _header.encode("all_reduce", op="max", seq=9, dtype=ef.bfloat16, shape=(2, 0, 5))
    assert _header.decode(h) == {"collective": "all_reduce", "op": "max", "root": None,
                                 "seq": 9, "dtype": ef.bfloat16, "shape": (2, 0, 5)}
    bare = _header.decode(_header.encode("barrier", seq=1))
    assert bare["dtype"] is None and bare["shape"] is None
    with pytest.raises(ValueError, match="at most 64"):
        _header.encode("all_gather", dtype=ef.float32, shape=(1,) * 65)


def test_header_mismatch_names_every_rank_and_what_differs():
    rows = np.stack([_header.encode("all_reduce", op="sum", seq=3, dtype=ef.float32,
                                    shape=(4, 3)),
                     _header.encode("all_reduce", op="sum", seq=3, dtype=ef.float32,
                                    shape=(4, 2)),
                     _header.encode("all_reduce", op="sum", seq=3, dtype=ef.float32,
                                    shape=(4, 3))])
    with pytest.raises(CollectiveMismatchError) as err:
        _header.compare(rows, "distributed.all_reduce")
    msg = str(err.value)
    assert msg.startswith("distributed.all_reduce: the ranks disagree on the shape: ")
    assert "ranks 0, 2: all_reduce(op=sum) float32[4, 3] (collective #3); rank 1: " \
           "all_reduce(op=sum) float32[4, 2] (collective #3)" in msg
    rows[1] = _header.encode("broadcast", root=1, seq=3, dtype=ef.int8, shape=(4, 3))
    with pytest.raises(CollectiveMismatchError, match="the collective and the op and the root "
                                                      "and the dtype"):
        _header.compare(rows, "x")
    _header.compare(rows[[0, 2]], "x")  # equal rows: no error


# -- recycled output buffers -----------------------------------------------------------------

def test_buffers_are_reused_only_when_nothing_refers_to_them():
    cache = BufferCache(max_bytes=1 << 20)
    n = MIN_BYTES // 4
    a = cache.take((n,), np.float32)
    address = a.ctypes.data
    view = a[::2]
    del a
    b = cache.take((n,), np.float32)           # `view` still holds the first buffer
    assert b.ctypes.data != address
    del view
    gc.collect()
    c = cache.take((2, n // 2), np.float32)    # same bytes, another shape: reused
    assert c.ctypes.data == address and c.shape == (2, n // 2) and c.flags.c_contiguous
    tensor = new_tensor(b, ef.float32, ef.device("cpu"))  # as a collective's result holds it
    del b
    d = cache.take((n,), np.float32)
    assert d.ctypes.data not in (address, tensor.raw.ctypes.data)
    assert cache.held_bytes() == 3 * MIN_BYTES
    small = cache.take((4,), np.float32)       # below MIN_BYTES: plain allocation
    assert small.base is None


def test_buffer_cache_stays_under_its_cap():
    cache = BufferCache(max_bytes=2 * MIN_BYTES)
    held = [cache.take((MIN_BYTES,), np.uint8) for _ in range(3)]
    assert cache.held_bytes() == 2 * MIN_BYTES
    del held
    cache.take((2 * MIN_BYTES,), np.uint8)     # evicts the idle ones to fit
    assert cache.held_bytes() == 2 * MIN_BYTES
