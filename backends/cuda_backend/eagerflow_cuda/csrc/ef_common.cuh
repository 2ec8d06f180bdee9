// Shared device helpers of eagerflow's fused kernels: storage types, float conversions,
// vector packs, warp and block reductions.
//
// Every .cu file of this folder is compiled three ways from the same text: by NVRTC at run time
// (eagerflow_cuda/_compile.py), by nvcc in `python -m eagerflow_cuda.build --check`, and by the
// host C++ compiler against tests/cuda_emu/ef_emu.h, which runs the kernels on CPU threads in
// the unit tests. So this code includes no header (NVRTC has no libc, and <cuda_fp16.h> differs
// between toolkits) and uses only plain C++17 plus CUDA builtins that the emulator provides.
//
// Launch every kernel with EF_BLOCK threads per block unless its comment says otherwise.
#pragma once

#define EF_BLOCK 256
#define EF_WARPS (EF_BLOCK / 32)
#define EF_FULL_MASK 0xffffffffu

// 16-bit floats are stored as their bits: the kernels convert to float on load and back on
// store, and accumulate in float. Structs (not unsigned short) keep the overloads apart.
struct ef_half {
    unsigned short bits;
};
struct ef_bfloat {
    unsigned short bits;
};

// -- conversions ---------------------------------------------------------------------------

__device__ __forceinline__ float ef_to_float(float v) { return v; }

__device__ __forceinline__ float ef_to_float(ef_half v) {
#ifdef __CUDA_ARCH__
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v.bits));
    return f;
#else
    return ef_emu_half_to_float(v.bits);
#endif
}

__device__ __forceinline__ float ef_to_float(ef_bfloat v) {
    return __uint_as_float(((unsigned int)v.bits) << 16);
}

template <typename T>
struct ef_store_as;

template <>
struct ef_store_as<float> {
    static __device__ __forceinline__ float from(float f) { return f; }
};

template <>
struct ef_store_as<ef_half> {
    static __device__ __forceinline__ ef_half from(float f) {
        ef_half h;
#ifdef __CUDA_ARCH__
        asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.bits) : "f"(f));
#else
        h.bits = ef_emu_float_to_half(f);
#endif
        return h;
    }
};

template <>
struct ef_store_as<ef_bfloat> {
    // Round to nearest even, as NumPy's ml_dtypes and the hardware's cvt.rn.bf16.f32 do; a NaN
    // stays a (quiet) NaN instead of rounding into an infinity.
    static __device__ __forceinline__ ef_bfloat from(float f) {
        const unsigned int u = __float_as_uint(f);
        ef_bfloat b;
        if ((u & 0x7fffffffu) > 0x7f800000u) {
            b.bits = (unsigned short)((u >> 16) | 0x0040u);
        } else {
            b.bits = (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
        }
        return b;
    }
};

template <typename T>
__device__ __forceinline__ T ef_from_float(float f) {
    return ef_store_as<T>::from(f);
}

// -- vector packs --------------------------------------------------------------------------

// N elements read or written as one 16-byte (or 8-, 4-byte) access; callers check alignment.
template <typename T, int N>
struct alignas(sizeof(T) * N) ef_pack {
    T v[N];
};

//: Elements per 16-byte access.
template <typename T>
struct ef_vec {
    static constexpr int n = 16 / (int)sizeof(T);
};

__device__ __forceinline__ bool ef_aligned(const void* p, unsigned long long bytes) {
    return ((unsigned long long)p & (bytes - 1ull)) == 0ull;
}

// -- small math ----------------------------------------------------------------------------

__device__ __forceinline__ float ef_inf() { return __uint_as_float(0x7f800000u); }

__device__ __forceinline__ bool ef_isfinite(float v) {
    return (__float_as_uint(v) & 0x7f800000u) != 0x7f800000u;
}

// The shift of a stable softmax: the row max where it is finite, else 0 (eagerflow_core's
// nn/_common.py `shift`), so a row of -inf or a +inf gives the right infinities or NaN.
__device__ __forceinline__ float ef_shift_of(float m) { return ef_isfinite(m) ? m : 0.0f; }

__device__ __forceinline__ long long ef_min_ll(long long a, long long b) { return a < b ? a : b; }

// -- reductions ----------------------------------------------------------------------------

// Butterfly reductions: every lane ends with the result. Addition and max are commutative in
// IEEE arithmetic, so all lanes hold bit-identical values.
struct ef_add_op {
    __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};
struct ef_max_op {
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

template <typename Op>
__device__ __forceinline__ float ef_warp_reduce(float v, Op op) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        v = op(v, __shfl_xor_sync(EF_FULL_MASK, v, o));
    }
    return v;
}

__device__ __forceinline__ float ef_warp_sum(float v) { return ef_warp_reduce(v, ef_add_op()); }
__device__ __forceinline__ float ef_warp_max(float v) { return ef_warp_reduce(v, ef_max_op()); }

// The reduction over an EF_BLOCK-thread block, returned to every thread. `scratch` holds
// EF_WARPS floats of shared memory; the trailing barrier lets the caller reuse it at once.
template <typename Op>
__device__ __forceinline__ float ef_block_reduce(float v, float* scratch, float identity, Op op) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = ef_warp_reduce(v, op);
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    v = ef_warp_reduce(lane < EF_WARPS ? scratch[lane] : identity, op);
    __syncthreads();
    return v;
}

__device__ __forceinline__ float ef_block_sum(float v, float* scratch) {
    return ef_block_reduce(v, scratch, 0.0f, ef_add_op());
}

__device__ __forceinline__ float ef_block_max(float v, float* scratch) {
    return ef_block_reduce(v, scratch, -ef_inf(), ef_max_op());
}

// Running mean and sum of squared deviations (Welford), and Chan et al.'s combination of two.
// The combination is not symmetric in floating point, so reductions fold towards lane 0 (and
// warp 0) and broadcast: every thread of a row then uses the very same mean and rstd.
struct ef_welford {
    float n, mean, m2;
};

__device__ __forceinline__ void ef_welford_add(ef_welford& w, float x) {
    w.n += 1.0f;
    const float d = x - w.mean;
    w.mean += d / w.n;
    w.m2 += d * (x - w.mean);
}

__device__ __forceinline__ ef_welford ef_welford_merge(ef_welford a, ef_welford b) {
    if (b.n == 0.0f) {
        return a;
    }
    if (a.n == 0.0f) {
        return b;
    }
    ef_welford r;
    r.n = a.n + b.n;
    const float d = b.mean - a.mean;
    const float fb = b.n / r.n;
    r.mean = a.mean + d * fb;
    r.m2 = a.m2 + b.m2 + d * d * a.n * fb;
    return r;
}

// Folds the warp's 32 partial statistics into lane 0 and broadcasts the result to all lanes.
__device__ __forceinline__ ef_welford ef_warp_welford(ef_welford w) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        ef_welford other;
        other.n = __shfl_down_sync(EF_FULL_MASK, w.n, o);
        other.mean = __shfl_down_sync(EF_FULL_MASK, w.mean, o);
        other.m2 = __shfl_down_sync(EF_FULL_MASK, w.m2, o);
        // Lanes past 31 - o read their own values back: their results are never used.
        w = ef_welford_merge(w, other);
    }
    w.n = __shfl_sync(EF_FULL_MASK, w.n, 0);
    w.mean = __shfl_sync(EF_FULL_MASK, w.mean, 0);
    w.m2 = __shfl_sync(EF_FULL_MASK, w.m2, 0);
    return w;
}

// The block's statistics, returned to every thread. `scratch` holds 3 * EF_WARPS floats.
__device__ __forceinline__ ef_welford ef_block_welford(ef_welford w, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    w = ef_warp_welford(w);
    if (lane == 0) {
        scratch[warp] = w.n;
        scratch[EF_WARPS + warp] = w.mean;
        scratch[2 * EF_WARPS + warp] = w.m2;
    }
    __syncthreads();
    ef_welford t = {0.0f, 0.0f, 0.0f};
    if (lane < EF_WARPS) {
        t.n = scratch[lane];
        t.mean = scratch[EF_WARPS + lane];
        t.m2 = scratch[2 * EF_WARPS + lane];
    }
    t = ef_warp_welford(t);
    __syncthreads();
    return t;
}

// -- row access for the warp-per-row kernels ------------------------------------------------
//
// A warp holds a row of up to 32 * ELEMS elements in registers, ELEMS per lane. Lane l owns
// elements (i * 32 + l) * VEC + k for i < ELEMS / VEC, k < VEC: with VEC = 1 the warp reads 32
// consecutive elements per step (coalesced); with VEC > 1 each lane reads VEC consecutive
// elements in one 16-byte access (the caller checked alignment and cols % VEC == 0).

template <typename T, int ELEMS, int VEC>
__device__ __forceinline__ void ef_row_load(const T* __restrict__ row, long long cols, int lane,
                                            float (&v)[ELEMS], float fill) {
#pragma unroll
    for (int i = 0; i < ELEMS / VEC; ++i) {
        const long long c = ((long long)i * 32 + lane) * VEC;
        if (c < cols) {
            if (VEC == 1) {
                v[i] = ef_to_float(row[c]);
            } else {
                const ef_pack<T, VEC> p = *reinterpret_cast<const ef_pack<T, VEC>*>(row + c);
#pragma unroll
                for (int k = 0; k < VEC; ++k) {
                    v[i * VEC + k] = ef_to_float(p.v[k]);
                }
            }
        } else {
#pragma unroll
            for (int k = 0; k < VEC; ++k) {
                v[i * VEC + k] = fill;
            }
        }
    }
}

template <typename T, int ELEMS, int VEC>
__device__ __forceinline__ void ef_row_store(T* __restrict__ row, long long cols, int lane,
                                             const float (&v)[ELEMS]) {
#pragma unroll
    for (int i = 0; i < ELEMS / VEC; ++i) {
        const long long c = ((long long)i * 32 + lane) * VEC;
        if (c < cols) {
            if (VEC == 1) {
                row[c] = ef_from_float<T>(v[i]);
            } else {
                ef_pack<T, VEC> p;
#pragma unroll
                for (int k = 0; k < VEC; ++k) {
                    p.v[k] = ef_from_float<T>(v[i * VEC + k]);
                }
                *reinterpret_cast<ef_pack<T, VEC>*>(row + c) = p;
            }
        }
    }
}

// Whether register slot j (of ELEMS) of this lane holds a real element of the row.
template <int VEC>
__device__ __forceinline__ bool ef_row_has(long long cols, int lane, int j) {
    return ((long long)(j / VEC) * 32 + lane) * VEC + (j % VEC) < cols;
}

// The column index of register slot j of this lane in the warp-per-row layout above.
template <int VEC>
__device__ __forceinline__ long long ef_row_col(int lane, int j) {
    return ((long long)(j / VEC) * 32 + lane) * VEC + (j % VEC);
}

// -- column sums over rows (gradients of biases and of layer-norm scales) --------------------
//
// Blocks of (32, 8) threads: threadIdx.x picks a column of a 32-column tile (blockIdx.x), the
// 8 threadIdx.y walk the rows of chunk blockIdx.y (rows_per_chunk rows) with stride 8. The 8
// partial sums meet in shared memory in a fixed order: results are deterministic (no atomics).
// Pass 2 (ef_colsum_final) adds the chunks of each column in order.
#define EF_COL_TILE 32
#define EF_COL_ROWS 8

// Writes partial[chunk * cols + col] = sum over the chunk's rows r of value(r, col).
template <typename F>
__device__ __forceinline__ void ef_colsum_partial(long long rows, long long cols,
                                                  long long rows_per_chunk, float* partial,
                                                  F value) {
    __shared__ float tile[EF_COL_ROWS][EF_COL_TILE + 1];
    const long long col = (long long)blockIdx.x * EF_COL_TILE + threadIdx.x;
    const long long r0 = (long long)blockIdx.y * rows_per_chunk;
    const long long r1 = ef_min_ll(rows, r0 + rows_per_chunk);
    float acc = 0.0f;
    if (col < cols) {
        for (long long r = r0 + threadIdx.y; r < r1; r += EF_COL_ROWS) {
            acc += value(r, col);
        }
    }
    tile[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && col < cols) {
        float s = 0.0f;
#pragma unroll
        for (int k = 0; k < EF_COL_ROWS; ++k) {
            s += tile[k][threadIdx.x];
        }
        partial[(long long)blockIdx.y * cols + col] = s;
    }
}

// out[col] = sum over chunks of partial[chunk, col]; one thread per column, EF_BLOCK per block.
template <typename T>
__device__ __forceinline__ void ef_colsum_final(const float* __restrict__ partial, int chunks,
                                                long long cols, T* __restrict__ out) {
    const long long col = (long long)blockIdx.x * EF_BLOCK + threadIdx.x;
    if (col < cols) {
        float s = 0.0f;
        for (int k = 0; k < chunks; ++k) {
            s += partial[(long long)k * cols + col];
        }
        out[col] = ef_from_float<T>(s);
    }
}
