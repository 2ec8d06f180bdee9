"""Launch-configuration arithmetic of the ``csrc`` kernels: which kernel, how many blocks.

Pure functions of shapes, dtypes, pointers and the device's SM count, unit-tested without a GPU.
The constants mirror the ``#define`` of the CUDA sources (``EF_BLOCK``, ``EF_ADAM_CHUNK``...);
``tests/test_cuda_launch.py`` checks that they agree.

>>> from eagerflow_cuda import _launch
>>> _launch.row_kernel("ef_softmax_fwd", rows=1000, cols=200, itemsize=4, aligned=True, tag="f32")
('ef_softmax_fwd_warp8v_f32', (125,))
>>> _launch.row_kernel("ef_softmax_fwd", rows=3, cols=5000, itemsize=2, aligned=False, tag="f16")
('ef_softmax_fwd_block_f16', (3,))
"""

from __future__ import annotations

import numpy as np

#: Threads per block of every kernel (``EF_BLOCK``), and the warps in it.
BLOCK = 256
WARPS = BLOCK // 32
#: Register slots per lane of the warp-per-row kernels: rows of up to 32 * E columns.
WARP_ELEMS = (8, 32)
WARP_MAX_COLS = 32 * WARP_ELEMS[-1]
#: Grid-stride kernels launch at most this many blocks per SM: 8 blocks of 256 threads fill an
#: SM's 2048 thread slots, enough loads in flight for full memory bandwidth.
WAVES = 8
#: Elements per block-iteration of the Adam kernels (``EF_ADAM_CHUNK``).
ADAM_CHUNK = BLOCK * 16
#: Column sums: a block covers 32 columns (``EF_COL_TILE``) with 8 row-threads (``EF_COL_ROWS``),
#: and a chunk of rows has at least this many rows.
COL_TILE, COL_ROWS, MIN_CHUNK_ROWS = 32, 8, 64

#: Kernel name suffix of each storage dtype.
TAGS = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def tag(dtype) -> str | None:
    """``"f32"``, ``"f16"`` or ``"bf16"`` for the dtypes the fused kernels store; None otherwise."""
    return TAGS.get(np.dtype(dtype).name)


def vec_width(itemsize: int) -> int:
    """Elements per 16-byte access (``ef_vec<T>::n``)."""
    return 16 // itemsize


def aligned(*ptrs: int, nbytes: int = 16) -> bool:
    return all(p % nbytes == 0 for p in ptrs)


def row_kernel(prefix: str, rows: int, cols: int, itemsize: int, aligned: bool,
               tag: str) -> tuple[str, tuple[int]]:
    """The row kernel for a C-contiguous (rows, cols) array, and its grid.

    Rows of up to 1024 columns take a warp each (8 per block), the row held in registers: the
    ``warp8`` kernel up to 256 columns, ``warp32`` up to 1024. Longer rows take a block each. The
    ``v`` variants read 16 bytes at a time: every row must start 16-byte aligned, so the base
    pointers must be and ``cols`` must be a multiple of the vector width.
    """
    suffix = "v" if aligned and cols % vec_width(itemsize) == 0 else ""
    if cols <= WARP_MAX_COLS:
        elems = next(e for e in WARP_ELEMS if cols <= 32 * e)
        return f"{prefix}_warp{elems}{suffix}_{tag}", (cdiv(rows, WARPS),)
    return f"{prefix}_block{suffix}_{tag}", (rows,)


def grid_stride_blocks(items: int, sm_count: int, per_block: int = BLOCK) -> int:
    """Blocks for a grid-stride loop over ``items`` work items, ``per_block`` per block-step:
    enough to cover them once, at most WAVES per SM (the loop does the rest)."""
    return max(1, min(cdiv(items, per_block), sm_count * WAVES))


def colsum_plan(rows: int, cols: int, sm_count: int) -> tuple[tuple[int, int], int]:
    """Grid ``(column tiles, row chunks)`` and rows per chunk of the column-sum kernels.

    Enough chunks for about WAVES blocks per SM in all, each chunk at least MIN_CHUNK_ROWS rows,
    and no chunk empty. Pass 2 then adds ``chunks`` partial sums per column.
    """
    tiles = max(1, cdiv(cols, COL_TILE))
    want = cdiv(sm_count * WAVES, tiles)
    chunks = max(1, min(want, rows // MIN_CHUNK_ROWS))
    per_chunk = max(1, cdiv(rows, chunks))
    chunks = max(1, cdiv(rows, per_chunk))
    return (tiles, chunks), per_chunk


def adam_table(pointers, sizes) -> np.ndarray:
    """The int64 table of a multi-tensor Adam launch (see ``csrc/adam.cu``): four pointers per
    tensor (param, grad, m, v), the sizes, and the running chunk count before each tensor."""
    sizes = [int(n) for n in sizes]
    starts = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum([cdiv(n, ADAM_CHUNK) for n in sizes], out=starts[1:])
    ptrs = np.array([int(p) for quad in pointers for p in quad], dtype=np.uint64).view(np.int64)
    return np.concatenate([ptrs, np.asarray(sizes, dtype=np.int64), starts])


def philox_per_group(dtype) -> int:
    """Values per Philox call: 2 for float64 (two words each), else 4."""
    return 2 if np.dtype(dtype) == np.float64 else 4


def counters_used(n: int, dtype) -> int:
    """How far a draw of ``n`` values advances the counter."""
    return cdiv(int(n), philox_per_group(dtype))


def split_counter(counter: int) -> tuple[np.uint64, np.uint64]:
    """A 128-bit counter as the kernels' (low, high) 64-bit arguments."""
    if not 0 <= counter < 1 << 128:
        raise ValueError(f"a Philox counter is in [0, 2**128), got {counter}")
    return np.uint64(counter & (2**64 - 1)), np.uint64(counter >> 64)
