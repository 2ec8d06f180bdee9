// Layer normalisation over the last axis of a C-contiguous (rows, cols) array, forward and
// backward. Python launchers: eagerflow_cuda/fused.py; the same math in NumPy:
// eagerflow_cuda/reference.py.
//
// forward:   mean, var = Welford over the row (float32 for every storage type)
//            rstd = 1 / sqrt(var + eps)         (biased variance, as Keras and PyTorch)
//            y = (x - mean) * rstd * gamma + beta   (gamma, beta optional: null pointers)
//            mean and rstd (float32, one per row) are saved for the backward pass.
// backward:  xhat = (x - mean) * rstd,  dy = g * gamma
//            dx = rstd * (dy - mean(dy) - xhat * mean(dy * xhat))
//            dgamma = sum over rows of g * xhat,  dbeta = sum over rows of g
//
// Row kernels come in the two shapes of softmax.cu (one warp per row for up to 1024 columns,
// held in registers; one block per row above), a trailing `v` marking 16-byte accesses. The
// parameter gradients are column sums: ef_ln_bwd_params_<dt> (blocks of 32 x 8 threads, grid
// (ceil(cols / 32), chunks)) writes float32 partial sums per chunk of rows, ef_ln_colsum_<dt>
// adds them up in order (deterministic, no atomics).

#include "ef_common.cuh"

// gamma[c] or beta[c], or `none` where the parameter is absent (a null pointer).
template <typename T>
__device__ __forceinline__ float ef_param_at(const T* __restrict__ p, long long c, float none) {
    return p == nullptr ? none : ef_to_float(p[c]);
}

// -- forward ---------------------------------------------------------------------------------

template <typename T, int ELEMS, int VEC>
__device__ __forceinline__ void ef_ln_fwd_warp(const T* __restrict__ x,
                                               const T* __restrict__ gamma,
                                               const T* __restrict__ beta, T* __restrict__ y,
                                               float* __restrict__ mean_out,
                                               float* __restrict__ rstd_out, long long rows,
                                               long long cols, float eps) {
    const long long row = (long long)blockIdx.x * EF_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    const int lane = threadIdx.x & 31;
    float v[ELEMS];
    ef_row_load<T, ELEMS, VEC>(x + row * cols, cols, lane, v, 0.0f);
    ef_welford w = {0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int j = 0; j < ELEMS; ++j) {
        if (ef_row_has<VEC>(cols, lane, j)) {
            ef_welford_add(w, v[j]);
        }
    }
    w = ef_warp_welford(w);
    const float rstd = rsqrtf(w.m2 / (float)cols + eps);
#pragma unroll
    for (int j = 0; j < ELEMS; ++j) {
        if (ef_row_has<VEC>(cols, lane, j)) {
            const long long c = ef_row_col<VEC>(lane, j);
            v[j] = (v[j] - w.mean) * rstd * ef_param_at(gamma, c, 1.0f) +
                   ef_param_at(beta, c, 0.0f);
        }
    }
    ef_row_store<T, ELEMS, VEC>(y + row * cols, cols, lane, v);
    if (lane == 0) {
        mean_out[row] = w.mean;
        rstd_out[row] = rstd;
    }
}

template <typename T, int VEC>
__device__ __forceinline__ void ef_ln_fwd_block(const T* __restrict__ x,
                                                const T* __restrict__ gamma,
                                                const T* __restrict__ beta, T* __restrict__ y,
                                                float* __restrict__ mean_out,
                                                float* __restrict__ rstd_out, long long cols,
                                                float eps) {
    __shared__ float scratch[3 * EF_WARPS];
    const long long row = blockIdx.x;
    const T* __restrict__ r = x + row * cols;
    ef_welford w = {0.0f, 0.0f, 0.0f};
    for (long long c = (long long)threadIdx.x * VEC; c < cols; c += (long long)EF_BLOCK * VEC) {
        const ef_pack<T, VEC> p = *reinterpret_cast<const ef_pack<T, VEC>*>(r + c);
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            ef_welford_add(w, ef_to_float(p.v[k]));
        }
    }
    w = ef_block_welford(w, scratch);
    const float rstd = rsqrtf(w.m2 / (float)cols + eps);
    for (long long c = (long long)threadIdx.x * VEC; c < cols; c += (long long)EF_BLOCK * VEC) {
        const ef_pack<T, VEC> p = *reinterpret_cast<const ef_pack<T, VEC>*>(r + c);
        ef_pack<T, VEC> res;
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float h = (ef_to_float(p.v[k]) - w.mean) * rstd;
            res.v[k] = ef_from_float<T>(h * ef_param_at(gamma, c + k, 1.0f) +
                                        ef_param_at(beta, c + k, 0.0f));
        }
        *reinterpret_cast<ef_pack<T, VEC>*>(y + row * cols + c) = res;
    }
    if (threadIdx.x == 0) {
        mean_out[row] = w.mean;
        rstd_out[row] = rstd;
    }
}

// -- backward: dx --------------------------------------------------------------------------

template <typename T, int ELEMS, int VEC>
__device__ __forceinline__ void ef_ln_bwd_warp(const T* __restrict__ g, const T* __restrict__ x,
                                               const float* __restrict__ mean,
                                               const float* __restrict__ rstd,
                                               const T* __restrict__ gamma, T* __restrict__ dx,
                                               long long rows, long long cols) {
    const long long row = (long long)blockIdx.x * EF_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    const int lane = threadIdx.x & 31;
    float xh[ELEMS], dy[ELEMS];
    ef_row_load<T, ELEMS, VEC>(x + row * cols, cols, lane, xh, 0.0f);
    ef_row_load<T, ELEMS, VEC>(g + row * cols, cols, lane, dy, 0.0f);
    const float mu = mean[row];
    const float rs = rstd[row];
    float a = 0.0f, b = 0.0f;
#pragma unroll
    for (int j = 0; j < ELEMS; ++j) {
        if (ef_row_has<VEC>(cols, lane, j)) {
            xh[j] = (xh[j] - mu) * rs;
            dy[j] *= ef_param_at(gamma, ef_row_col<VEC>(lane, j), 1.0f);
            a += dy[j];
            b += dy[j] * xh[j];
        }
    }
    const float inv_cols = 1.0f / (float)cols;
    a = ef_warp_sum(a) * inv_cols;
    b = ef_warp_sum(b) * inv_cols;
#pragma unroll
    for (int j = 0; j < ELEMS; ++j) {
        dy[j] = rs * (dy[j] - a - xh[j] * b);
    }
    ef_row_store<T, ELEMS, VEC>(dx + row * cols, cols, lane, dy);
}

template <typename T, int VEC>
__device__ __forceinline__ void ef_ln_bwd_block(const T* __restrict__ g, const T* __restrict__ x,
                                                const float* __restrict__ mean,
                                                const float* __restrict__ rstd,
                                                const T* __restrict__ gamma, T* __restrict__ dx,
                                                long long cols) {
    __shared__ float scratch[EF_WARPS];
    const long long base = (long long)blockIdx.x * cols;
    const float mu = mean[blockIdx.x];
    const float rs = rstd[blockIdx.x];
    float a = 0.0f, b = 0.0f;
    for (long long c = (long long)threadIdx.x * VEC; c < cols; c += (long long)EF_BLOCK * VEC) {
        const ef_pack<T, VEC> xp = *reinterpret_cast<const ef_pack<T, VEC>*>(x + base + c);
        const ef_pack<T, VEC> gp = *reinterpret_cast<const ef_pack<T, VEC>*>(g + base + c);
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float xh = (ef_to_float(xp.v[k]) - mu) * rs;
            const float d = ef_to_float(gp.v[k]) * ef_param_at(gamma, c + k, 1.0f);
            a += d;
            b += d * xh;
        }
    }
    const float inv_cols = 1.0f / (float)cols;
    a = ef_block_sum(a, scratch) * inv_cols;
    b = ef_block_sum(b, scratch) * inv_cols;
    for (long long c = (long long)threadIdx.x * VEC; c < cols; c += (long long)EF_BLOCK * VEC) {
        const ef_pack<T, VEC> xp = *reinterpret_cast<const ef_pack<T, VEC>*>(x + base + c);
        const ef_pack<T, VEC> gp = *reinterpret_cast<const ef_pack<T, VEC>*>(g + base + c);
        ef_pack<T, VEC> res;
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float xh = (ef_to_float(xp.v[k]) - mu) * rs;
            const float d = ef_to_float(gp.v[k]) * ef_param_at(gamma, c + k, 1.0f);
            res.v[k] = ef_from_float<T>(rs * (d - a - xh * b));
        }
        *reinterpret_cast<ef_pack<T, VEC>*>(dx + base + c) = res;
    }
}

// -- the kernels ---------------------------------------------------------------------------

#define EF_LN_WARP(E, V, SUFFIX, T, DT)                                                          \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_ln_fwd_warp##E##SUFFIX##_##DT(const T* x, const T* gamma, const T* beta, T* y,        \
                                         float* mean, float* rstd, long long rows,               \
                                         long long cols, float eps) {                            \
        ef_ln_fwd_warp<T, E, V>(x, gamma, beta, y, mean, rstd, rows, cols, eps);                 \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_ln_bwd_warp##E##SUFFIX##_##DT(const T* g, const T* x, const float* mean,              \
                                         const float* rstd, const T* gamma, T* dx,               \
                                         long long rows, long long cols) {                       \
        ef_ln_bwd_warp<T, E, V>(g, x, mean, rstd, gamma, dx, rows, cols);                        \
    }

#define EF_LN_BLOCK(V, SUFFIX, T, DT)                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_ln_fwd_block##SUFFIX##_##DT(const T* x, const T* gamma, const T* beta, T* y,          \
                                       float* mean, float* rstd, long long cols, float eps) {    \
        ef_ln_fwd_block<T, V>(x, gamma, beta, y, mean, rstd, cols, eps);                         \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_ln_bwd_block##SUFFIX##_##DT(const T* g, const T* x, const float* mean,                \
                                       const float* rstd, const T* gamma, T* dx,                 \
                                       long long cols) {                                         \
        ef_ln_bwd_block<T, V>(g, x, mean, rstd, gamma, dx, cols);                                \
    }

// dgamma and dbeta partial sums (either output may be null: then it is not computed).
#define EF_LN_PARAMS(T, DT)                                                                      \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_ln_bwd_params_##DT(const T* g, const T* x, const float* mean, const float* rstd,      \
                              float* partial_gamma, float* partial_beta, long long rows,         \
                              long long cols, long long rows_per_chunk) {                        \
        if (partial_gamma != nullptr) {                                                          \
            ef_colsum_partial(rows, cols, rows_per_chunk, partial_gamma,                         \
                              [&](long long r, long long c) {                                    \
                                  const long long i = r * cols + c;                              \
                                  return ef_to_float(g[i]) * (ef_to_float(x[i]) - mean[r]) *     \
                                         rstd[r];                                                \
                              });                                                                \
        }                                                                                        \
        if (partial_beta != nullptr) {                                                           \
            ef_colsum_partial(rows, cols, rows_per_chunk, partial_beta,                          \
                              [&](long long r, long long c) {                                    \
                                  return ef_to_float(g[r * cols + c]);                           \
                              });                                                                \
        }                                                                                        \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_ln_colsum_##DT(const float* partial, int chunks, long long cols, T* out) {            \
        ef_colsum_final<T>(partial, chunks, cols, out);                                          \
    }

#define EF_LN_ALL(T, DT)                                                                         \
    EF_LN_WARP(8, 1, , T, DT)                                                                    \
    EF_LN_WARP(32, 1, , T, DT)                                                                   \
    EF_LN_WARP(8, ef_vec<T>::n, v, T, DT)                                                        \
    EF_LN_WARP(32, ef_vec<T>::n, v, T, DT)                                                       \
    EF_LN_BLOCK(1, , T, DT)                                                                      \
    EF_LN_BLOCK(ef_vec<T>::n, v, T, DT)                                                          \
    EF_LN_PARAMS(T, DT)

EF_LN_ALL(float, f32)
EF_LN_ALL(ef_half, f16)
EF_LN_ALL(ef_bfloat, bf16)
