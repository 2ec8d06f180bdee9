// Softmax and log-softmax over the last axis of a C-contiguous (rows, cols) array, their
// backward passes, and sparse softmax cross-entropy (integer labels), forward and backward.
// Python launchers: eagerflow_cuda/fused.py; the same math in NumPy: eagerflow_cuda/reference.py.
//
// Two shapes of kernel per operation:
//   *_warp<E>[v]  one warp per row, the row held in registers (E elements per lane, so rows of
//                 up to 32 * E columns): one read and one write of global memory per element.
//                 8 rows per EF_BLOCK-thread block; grid = ceil(rows / 8).
//   *_block[v]    one block per row, for rows longer than 1024: statistics in one pass (an
//                 online max and sum of exponentials), then the output pass; grid = rows.
// A trailing `v` marks the variant reading 16 bytes per access (the launcher checks that the
// array is 16-byte aligned and cols is a multiple of 16 / sizeof(T)).
//
// Rows are shifted by their max where it is finite, else by 0 (eagerflow_core's nn `shift`):
// a row of -inf gives NaN probabilities, as the composite does, instead of inf - inf noise.
// Statistics accumulate in float for every storage type.

#include "ef_common.cuh"

#define EF_MODE_SOFTMAX 0
#define EF_MODE_LOG_SOFTMAX 1

// -- softmax / log_softmax forward ----------------------------------------------------------

// Loads a row into registers (ELEMS per lane), shifts it by its max where finite (else by 0),
// and returns the sum of exp of the shifted values, on every lane of the warp; v holds the
// shifted row and `shift` the shift.
template <typename T, int ELEMS, int VEC>
__device__ __forceinline__ float ef_row_shift_sum(const T* __restrict__ r, long long cols,
                                                  int lane, float (&v)[ELEMS], float& shift) {
    ef_row_load<T, ELEMS, VEC>(r, cols, lane, v, -ef_inf());
    float m = -ef_inf();
#pragma unroll
    for (int j = 0; j < ELEMS; ++j) {
        m = fmaxf(m, v[j]);
    }
    shift = ef_shift_of(ef_warp_max(m));
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < ELEMS; ++j) {
        v[j] -= shift;
        s += ef_row_has<VEC>(cols, lane, j) ? expf(v[j]) : 0.0f;
    }
    return ef_warp_sum(s);
}

template <typename T, int ELEMS, int VEC>
__device__ __forceinline__ void ef_softmax_fwd_warp(const T* __restrict__ x, T* __restrict__ y,
                                                    long long rows, long long cols, int mode) {
    const long long row = (long long)blockIdx.x * EF_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;  // the whole warp leaves together: row is uniform across it
    }
    const int lane = threadIdx.x & 31;
    float v[ELEMS], shift;
    const float s = ef_row_shift_sum<T, ELEMS, VEC>(x + row * cols, cols, lane, v, shift);
    if (mode == EF_MODE_LOG_SOFTMAX) {
        const float log_s = logf(s);
#pragma unroll
        for (int j = 0; j < ELEMS; ++j) {
            v[j] -= log_s;
        }
    } else {
        const float inv = 1.0f / s;
#pragma unroll
        for (int j = 0; j < ELEMS; ++j) {
            v[j] = expf(v[j]) * inv;
        }
    }
    ef_row_store<T, ELEMS, VEC>(y + row * cols, cols, lane, v);
}

// Online statistics of one row (Milakov & Gimelshein): the row max m and the sum s of
// exp(x - shift_of(m)), in one pass. Returned to every thread of the block.
template <typename T, int VEC>
__device__ __forceinline__ void ef_row_stats_block(const T* __restrict__ r, long long cols,
                                                   float& m_out, float& s_out) {
    __shared__ float scratch[EF_WARPS];
    float m = -ef_inf();
    float s = 0.0f;  // relative to shift_of(m)
    for (long long c = (long long)threadIdx.x * VEC; c < cols; c += (long long)EF_BLOCK * VEC) {
        float v[VEC];
        if (VEC == 1) {
            v[0] = ef_to_float(r[c]);
        } else {
            const ef_pack<T, VEC> p = *reinterpret_cast<const ef_pack<T, VEC>*>(r + c);
#pragma unroll
            for (int k = 0; k < VEC; ++k) {
                v[k] = ef_to_float(p.v[k]);
            }
        }
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float m_new = fmaxf(m, v[k]);
            if (m_new != m && s != 0.0f) {
                s *= expf(ef_shift_of(m) - ef_shift_of(m_new));
            }
            m = m_new;
            s += expf(v[k] - ef_shift_of(m));
        }
    }
    const float row_max = ef_block_max(m, scratch);
    // Rescale this thread's sum to the row's shift; a thread that saw no element has s == 0.
    if (s != 0.0f) {
        s *= expf(ef_shift_of(m) - ef_shift_of(row_max));
    }
    m_out = row_max;
    s_out = ef_block_sum(s, scratch);
}

template <typename T, int VEC>
__device__ __forceinline__ void ef_softmax_fwd_block(const T* __restrict__ x, T* __restrict__ y,
                                                     long long cols, int mode) {
    const long long row = blockIdx.x;
    const T* __restrict__ r = x + row * cols;
    T* __restrict__ out = y + row * cols;
    float m, s;
    ef_row_stats_block<T, VEC>(r, cols, m, s);
    const float shift = ef_shift_of(m);
    const float log_s = logf(s);
    const float inv = 1.0f / s;
    for (long long c = (long long)threadIdx.x * VEC; c < cols; c += (long long)EF_BLOCK * VEC) {
        ef_pack<T, VEC> in = *reinterpret_cast<const ef_pack<T, VEC>*>(r + c);
        ef_pack<T, VEC> res;
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float z = ef_to_float(in.v[k]) - shift;
            res.v[k] = ef_from_float<T>(mode == EF_MODE_LOG_SOFTMAX ? z - log_s : expf(z) * inv);
        }
        *reinterpret_cast<ef_pack<T, VEC>*>(out + c) = res;
    }
}

// -- softmax / log_softmax backward -----------------------------------------------------------
// softmax:      dx = y * (g - sum(g * y))
// log_softmax:  dx = g - exp(y) * sum(g)

template <typename T, int ELEMS, int VEC>
__device__ __forceinline__ void ef_softmax_bwd_warp(const T* __restrict__ g,
                                                    const T* __restrict__ y, T* __restrict__ dx,
                                                    long long rows, long long cols, int mode) {
    const long long row = (long long)blockIdx.x * EF_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    const int lane = threadIdx.x & 31;
    float gv[ELEMS], yv[ELEMS];
    ef_row_load<T, ELEMS, VEC>(g + row * cols, cols, lane, gv, 0.0f);
    ef_row_load<T, ELEMS, VEC>(y + row * cols, cols, lane, yv, 0.0f);
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < ELEMS; ++j) {
        s += mode == EF_MODE_LOG_SOFTMAX ? gv[j] : gv[j] * yv[j];
    }
    s = ef_warp_sum(s);
#pragma unroll
    for (int j = 0; j < ELEMS; ++j) {
        gv[j] = mode == EF_MODE_LOG_SOFTMAX ? gv[j] - expf(yv[j]) * s : yv[j] * (gv[j] - s);
    }
    ef_row_store<T, ELEMS, VEC>(dx + row * cols, cols, lane, gv);
}

template <typename T, int VEC>
__device__ __forceinline__ void ef_softmax_bwd_block(const T* __restrict__ g,
                                                     const T* __restrict__ y, T* __restrict__ dx,
                                                     long long cols, int mode) {
    __shared__ float scratch[EF_WARPS];
    const long long base = (long long)blockIdx.x * cols;
    float s = 0.0f;
    for (long long c = (long long)threadIdx.x * VEC; c < cols; c += (long long)EF_BLOCK * VEC) {
        const ef_pack<T, VEC> gp = *reinterpret_cast<const ef_pack<T, VEC>*>(g + base + c);
        const ef_pack<T, VEC> yp = *reinterpret_cast<const ef_pack<T, VEC>*>(y + base + c);
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float gk = ef_to_float(gp.v[k]);
            s += mode == EF_MODE_LOG_SOFTMAX ? gk : gk * ef_to_float(yp.v[k]);
        }
    }
    s = ef_block_sum(s, scratch);
    for (long long c = (long long)threadIdx.x * VEC; c < cols; c += (long long)EF_BLOCK * VEC) {
        const ef_pack<T, VEC> gp = *reinterpret_cast<const ef_pack<T, VEC>*>(g + base + c);
        const ef_pack<T, VEC> yp = *reinterpret_cast<const ef_pack<T, VEC>*>(y + base + c);
        ef_pack<T, VEC> res;
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float gk = ef_to_float(gp.v[k]);
            const float yk = ef_to_float(yp.v[k]);
            res.v[k] = ef_from_float<T>(mode == EF_MODE_LOG_SOFTMAX ? gk - expf(yk) * s
                                                                    : yk * (gk - s));
        }
        *reinterpret_cast<ef_pack<T, VEC>*>(dx + base + c) = res;
    }
}

// -- sparse softmax cross-entropy -------------------------------------------------------------
// forward:  loss[r] = lse[r] - x[r, label[r]],  lse[r] = logsumexp(x[r, :]) (saved, float32)
// backward: dx[r, c] = g[r] * (exp(x[r, c] - lse[r]) - (c == label[r]))
// A label outside [0, cols) gives a NaN loss (a kernel cannot raise; the caller checks labels
// where it wants an error).

// Writes row `row`'s loss and log-sum-exp; one thread per row calls it.
template <typename T>
__device__ __forceinline__ void ef_ce_write(const T* __restrict__ x,
                                            const long long* __restrict__ labels,
                                            T* __restrict__ loss, float* __restrict__ lse_out,
                                            long long row, long long cols, float lse) {
    const long long label = labels[row];
    const bool ok = label >= 0 && label < cols;
    const float picked = ok ? ef_to_float(x[row * cols + label]) : 0.0f;
    loss[row] = ef_from_float<T>(ok ? lse - picked : __uint_as_float(0x7fc00000u));  // NaN
    lse_out[row] = lse;
}

template <typename T, int ELEMS, int VEC>
__device__ __forceinline__ void ef_sparse_ce_fwd_warp(const T* __restrict__ x,
                                                      const long long* __restrict__ labels,
                                                      T* __restrict__ loss,
                                                      float* __restrict__ lse_out, long long rows,
                                                      long long cols) {
    const long long row = (long long)blockIdx.x * EF_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    const int lane = threadIdx.x & 31;
    float v[ELEMS], shift;
    const float s = ef_row_shift_sum<T, ELEMS, VEC>(x + row * cols, cols, lane, v, shift);
    if (lane == 0) {
        ef_ce_write(x, labels, loss, lse_out, row, cols, shift + logf(s));
    }
}

template <typename T, int VEC>
__device__ __forceinline__ void ef_sparse_ce_fwd_block(const T* __restrict__ x,
                                                       const long long* __restrict__ labels,
                                                       T* __restrict__ loss,
                                                       float* __restrict__ lse_out,
                                                       long long cols) {
    const long long row = blockIdx.x;
    float m, s;
    ef_row_stats_block<T, VEC>(x + row * cols, cols, m, s);
    if (threadIdx.x == 0) {
        ef_ce_write(x, labels, loss, lse_out, row, cols, ef_shift_of(m) + logf(s));
    }
}

// Backward in one pass, elementwise over (rows, cols) with a grid-stride loop over groups of
// VEC elements; VEC > 1 only when cols % VEC == 0 (a group never straddles two rows).
template <typename T, int VEC>
__device__ __forceinline__ void ef_sparse_ce_bwd(const T* __restrict__ g,
                                                 const T* __restrict__ x,
                                                 const long long* __restrict__ labels,
                                                 const float* __restrict__ lse,
                                                 T* __restrict__ dx, long long rows,
                                                 long long cols) {
    const long long groups = rows * cols / VEC;
    const long long stride = (long long)gridDim.x * EF_BLOCK;
    for (long long i = (long long)blockIdx.x * EF_BLOCK + threadIdx.x; i < groups; i += stride) {
        const long long e = i * VEC;
        const long long row = e / cols;
        const long long col = e - row * cols;
        const float gr = ef_to_float(g[row]);
        const float l = lse[row];
        const long long label = labels[row];
        const ef_pack<T, VEC> in = *reinterpret_cast<const ef_pack<T, VEC>*>(x + e);
        ef_pack<T, VEC> res;
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float p = expf(ef_to_float(in.v[k]) - l);
            res.v[k] = ef_from_float<T>(gr * (p - (col + k == label ? 1.0f : 0.0f)));
        }
        *reinterpret_cast<ef_pack<T, VEC>*>(dx + e) = res;
    }
}

// -- the kernels ---------------------------------------------------------------------------
// Names: ef_<op>_<shape>_<dtype>, dtype one of f32, f16, bf16.

#define EF_WARP_KERNELS(E, V, SUFFIX, T, DT)                                                     \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_softmax_fwd_warp##E##SUFFIX##_##DT(const T* x, T* y, long long rows, long long cols,  \
                                              int mode) {                                        \
        ef_softmax_fwd_warp<T, E, V>(x, y, rows, cols, mode);                                    \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_softmax_bwd_warp##E##SUFFIX##_##DT(const T* g, const T* y, T* dx, long long rows,     \
                                              long long cols, int mode) {                        \
        ef_softmax_bwd_warp<T, E, V>(g, y, dx, rows, cols, mode);                                \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_sparse_ce_fwd_warp##E##SUFFIX##_##DT(const T* x, const long long* labels, T* loss,    \
                                                float* lse, long long rows, long long cols) {    \
        ef_sparse_ce_fwd_warp<T, E, V>(x, labels, loss, lse, rows, cols);                        \
    }

#define EF_BLOCK_KERNELS(V, SUFFIX, T, DT)                                                       \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_softmax_fwd_block##SUFFIX##_##DT(const T* x, T* y, long long cols, int mode) {        \
        ef_softmax_fwd_block<T, V>(x, y, cols, mode);                                            \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_softmax_bwd_block##SUFFIX##_##DT(const T* g, const T* y, T* dx, long long cols,       \
                                            int mode) {                                          \
        ef_softmax_bwd_block<T, V>(g, y, dx, cols, mode);                                        \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_sparse_ce_fwd_block##SUFFIX##_##DT(const T* x, const long long* labels, T* loss,      \
                                              float* lse, long long cols) {                      \
        ef_sparse_ce_fwd_block<T, V>(x, labels, loss, lse, cols);                                \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_sparse_ce_bwd##SUFFIX##_##DT(const T* g, const T* x, const long long* labels,         \
                                        const float* lse, T* dx, long long rows,                 \
                                        long long cols) {                                        \
        ef_sparse_ce_bwd<T, V>(g, x, labels, lse, dx, rows, cols);                               \
    }

#define EF_ALL_KERNELS(T, DT)                                                                    \
    EF_WARP_KERNELS(8, 1, , T, DT)                                                               \
    EF_WARP_KERNELS(32, 1, , T, DT)                                                              \
    EF_WARP_KERNELS(8, ef_vec<T>::n, v, T, DT)                                                   \
    EF_WARP_KERNELS(32, ef_vec<T>::n, v, T, DT)                                                  \
    EF_BLOCK_KERNELS(1, , T, DT)                                                                 \
    EF_BLOCK_KERNELS(ef_vec<T>::n, v, T, DT)

EF_ALL_KERNELS(float, f32)
EF_ALL_KERNELS(ef_half, f16)
EF_ALL_KERNELS(ef_bfloat, bf16)
