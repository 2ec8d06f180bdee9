"""Launch-configuration arithmetic of the csrc kernels (eagerflow_cuda/_launch.py): kernel choice,
grid sizes, the multi-tensor table, Philox counters; and that the constants and kernel names the
launchers use are the ones the CUDA sources define. No GPU needed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eagerflow_cuda import _compile, _fused, _launch as L

import cuda_emulator  # tests/cuda_emulator.py

pytestmark = pytest.mark.cpu_only  # make gpu-check leaves it out


def _define(name: str, file: str = "ef_common.cuh") -> str:
    m = re.search(rf"#define {name} (.+)", (_compile.csrc() / file).read_text())
    assert m, f"#define {name} not found in {file}"
    return m.group(1).split("//")[0].strip()


def test_constants_match_the_cuda_sources():
    assert int(_define("EF_BLOCK")) == L.BLOCK == _fused.BLOCK
    assert int(_define("EF_BLOCK", "reduce_sum.cu")) == _fused.BLOCK
    assert int(_define("EF_COL_TILE")) == L.COL_TILE
    assert int(_define("EF_COL_ROWS")) == L.COL_ROWS
    assert _define("EF_ADAM_CHUNK", "adam.cu") == "(EF_BLOCK * 4 * 4)"
    assert L.ADAM_CHUNK == L.BLOCK * 4 * 4


@pytest.mark.parametrize("cols, itemsize, aligned, want", [
    (1, 4, True, "warp8"), (255, 4, True, "warp8"), (256, 4, True, "warp8v"),
    (257, 4, True, "warp32"), (260, 4, True, "warp32v"), (1024, 4, True, "warp32v"),
    (1024, 4, False, "warp32"), (1025, 4, True, "block"), (1028, 4, True, "blockv"),
    (1028, 4, False, "block"), (24, 2, True, "warp8v"), (20, 2, True, "warp8"),
    (4096, 2, True, "blockv"), (4100, 2, True, "block")])
def test_row_kernel_choice(cols, itemsize, aligned, want):
    name, grid = L.row_kernel("ef_softmax_fwd", 20, cols, itemsize, aligned, "f32")
    assert name == f"ef_softmax_fwd_{want}_f32"
    assert grid == ((3,) if want.startswith("warp") else (20,))  # 8 rows per block, or 1


@given(rows=st.integers(1, 10**7), cols=st.integers(1, 10**5))
def test_row_grids_cover_every_row_once(rows, cols):
    name, (grid,) = L.row_kernel("ef_ln_fwd", rows, cols, 4, True, "f32")
    per_block = L.WARPS if "_warp" in name else 1
    assert (grid - 1) * per_block < rows <= grid * per_block
    if "_warp" in name:
        elems = int(re.search(r"warp(\d+)", name).group(1))
        assert cols <= 32 * elems and (elems == 8 or cols > 256)


@given(items=st.integers(0, 10**9), sms=st.integers(1, 200))
def test_grid_stride_blocks(items, sms):
    blocks = L.grid_stride_blocks(items, sms)
    assert 1 <= blocks <= sms * L.WAVES
    assert blocks * L.BLOCK >= items or blocks == sms * L.WAVES


@given(rows=st.integers(0, 10**6), cols=st.integers(1, 10**5), sms=st.integers(1, 200))
def test_colsum_plan_covers_every_row_with_no_empty_chunk(rows, cols, sms):
    (tiles, chunks), per_chunk = L.colsum_plan(rows, cols, sms)
    assert tiles == -(-cols // 32)
    assert 1 <= chunks <= 65535 and per_chunk >= 1
    assert chunks * per_chunk >= rows
    assert rows == 0 or (chunks - 1) * per_chunk < rows  # the last chunk has rows
    if rows >= L.MIN_CHUNK_ROWS:
        assert per_chunk >= L.MIN_CHUNK_ROWS or chunks == 1


def test_adam_table_layout():
    ptrs = [(16, 32, 48, 64), (2**63 + 8, 1, 2, 3)]
    table = L.adam_table(ptrs, [5000, 4096])
    assert table.dtype == np.int64
    np.testing.assert_array_equal(table[:8].view(np.uint64), np.array(
        [16, 32, 48, 64, 2**63 + 8, 1, 2, 3], dtype=np.uint64))
    np.testing.assert_array_equal(table[8:10], [5000, 4096])
    np.testing.assert_array_equal(table[10:], [0, 2, 3])  # chunks of 4096: 2, then 1


def test_philox_counters():
    assert L.counters_used(0, np.float32) == 0
    assert L.counters_used(1, np.float32) == 1 and L.counters_used(4, np.float16) == 1
    assert L.counters_used(5, np.float32) == 2 and L.counters_used(5, np.float64) == 3
    assert L.split_counter(2**64 + 5) == (5, 1)
    assert L.split_counter(2**128 - 1) == (2**64 - 1, 2**64 - 1)
    with pytest.raises(ValueError, match="2\\*\\*128"):
        L.split_counter(-1)


def test_sum_partial_blocks():
    assert _fused.partial_blocks(1, 132) == 1
    assert _fused.partial_blocks(256 * 16 * 10, 132) == 10
    assert _fused.partial_blocks(10**9, 132) == 1024  # MAX_PARTIALS
    assert _fused.partial_blocks(10**9, 4) == 32      # 8 blocks per SM


# -- every name a launcher can ask for exists, with the argument layout it packs ------------------

def _names(source):
    cxx = cuda_emulator.find_cxx()
    if cxx is None:
        pytest.skip("no C++ compiler to expand the kernel macros")
    return set(cuda_emulator.kernel_names(cxx, _compile.csrc() / source))


def test_every_row_kernel_name_exists():
    softmax, ln = _names("softmax.cu"), _names("layer_norm.cu")
    for tag in ("f32", "f16", "bf16"):
        for cols in (8, 256, 300, 1024, 2000):
            for aligned in (False, True):
                itemsize = 4 if tag == "f32" else 2
                for prefix in ("ef_softmax_fwd", "ef_softmax_bwd", "ef_sparse_ce_fwd"):
                    assert L.row_kernel(prefix, 4, cols, itemsize, aligned, tag)[0] in softmax
                for prefix in ("ef_ln_fwd", "ef_ln_bwd"):
                    assert L.row_kernel(prefix, 4, cols, itemsize, aligned, tag)[0] in ln
        assert {f"ef_sparse_ce_bwd_{tag}", f"ef_sparse_ce_bwdv_{tag}"} <= softmax
        assert {f"ef_ln_bwd_params_{tag}", f"ef_ln_colsum_{tag}"} <= ln
    assert {f"ef_adam_{p}" for p in ("f32_f32", "f16_f16", "f16_f32", "bf16_bf16", "bf16_f32")} \
        <= _names("adam.cu")
    assert {f"ef_{k}_{t}" for k in ("uniform", "normal") for t in ("f32", "f16", "bf16", "f64")} \
        == _names("philox.cu")
