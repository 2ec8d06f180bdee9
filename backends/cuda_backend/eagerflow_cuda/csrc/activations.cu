// Activations and the bias + activation epilogue of a matmul, forward and backward.
// Python launchers: eagerflow_cuda/fused.py; the same math in NumPy: eagerflow_cuda/reference.py.
//
//   ef_bias_act_fwd_<dt>(x, bias, y, n, cols, act)       y = act(x + bias[col])
//   ef_act_bwd_<dt>(g, x, bias, dx, n, cols, act)         dx = g * act'(x + bias[col])
//   ef_bias_act_bwd_<dt>(g, x, bias, dz, partial, ...)    dz = g * act'(x + bias[col]) and the
//                                                         float32 column sums of dz per chunk
//   ef_bias_colsum_<dt>(partial, chunks, cols, out)        dbias = sum over chunks
//
// `bias` may be null (a plain activation; `cols` is then ignored). The elementwise kernels run
// a grid-stride loop over groups of 16 bytes where x, y (or g, x, dx) are 16-byte aligned and,
// with a bias, cols is a multiple of the group (a group never straddles two rows); otherwise
// over single elements. The backward with a bias gradient is one pass: blocks of (32, 8)
// threads over (32-column tiles, chunks of rows), as the column sums of ef_common.cuh.

#include "ef_common.cuh"

#define EF_ACT_NONE 0
#define EF_ACT_RELU 1
#define EF_ACT_GELU_TANH 2
#define EF_ACT_GELU_ERF 3
#define EF_ACT_SILU 4

#define EF_SQRT_2_OVER_PI 0.7978845608028654f
#define EF_GELU_A 0.044715f
#define EF_SQRT_HALF 0.7071067811865476f
#define EF_INV_SQRT_2PI 0.3989422804014327f

__device__ __forceinline__ float ef_sigmoid(float z) { return 1.0f / (1.0f + expf(-z)); }

__device__ __forceinline__ float ef_act(float z, int act) {
    switch (act) {
        case EF_ACT_RELU:
            return (z > 0.0f || z != z) ? z : 0.0f;  // NaN passes through, as maximum(z, 0)
        case EF_ACT_GELU_TANH:
            return 0.5f * z * (1.0f + tanhf(EF_SQRT_2_OVER_PI * (z + EF_GELU_A * z * z * z)));
        case EF_ACT_GELU_ERF:
            return 0.5f * z * (1.0f + erff(z * EF_SQRT_HALF));
        case EF_ACT_SILU:
            return z * ef_sigmoid(z);
        default:
            return z;
    }
}

// d act(z) / dz. relu's is 0 at 0, as eagerflow's relu rule says.
__device__ __forceinline__ float ef_act_grad(float z, int act) {
    switch (act) {
        case EF_ACT_RELU:
            return z > 0.0f ? 1.0f : 0.0f;
        case EF_ACT_GELU_TANH: {
            const float t = tanhf(EF_SQRT_2_OVER_PI * (z + EF_GELU_A * z * z * z));
            const float inner = EF_SQRT_2_OVER_PI * (1.0f + 3.0f * EF_GELU_A * z * z);
            return 0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * inner;
        }
        case EF_ACT_GELU_ERF:
            return 0.5f * (1.0f + erff(z * EF_SQRT_HALF)) +
                   z * EF_INV_SQRT_2PI * expf(-0.5f * z * z);
        case EF_ACT_SILU: {
            const float s = ef_sigmoid(z);
            return s * (1.0f + z * (1.0f - s));
        }
        default:
            return 1.0f;
    }
}

template <typename T>
__device__ __forceinline__ float ef_bias_at(const T* __restrict__ bias, long long e,
                                            long long cols) {
    return bias == nullptr ? 0.0f : ef_to_float(bias[e % cols]);
}

// -- forward ---------------------------------------------------------------------------------

template <typename T, int VEC>
__device__ __forceinline__ void ef_bias_act_fwd_loop(const T* __restrict__ x,
                                                     const T* __restrict__ bias,
                                                     T* __restrict__ y, long long n,
                                                     long long cols, int act) {
    const long long groups = n / VEC;
    const long long stride = (long long)gridDim.x * EF_BLOCK;
    for (long long i = (long long)blockIdx.x * EF_BLOCK + threadIdx.x; i < groups; i += stride) {
        const long long e = i * VEC;
        const ef_pack<T, VEC> in = *reinterpret_cast<const ef_pack<T, VEC>*>(x + e);
        // With a bias, cols % VEC == 0: the group lies in one row, its bias is contiguous.
        const long long c = bias == nullptr ? 0 : e % cols;
        ef_pack<T, VEC> out;
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float b = bias == nullptr ? 0.0f : ef_to_float(bias[c + k]);
            out.v[k] = ef_from_float<T>(ef_act(ef_to_float(in.v[k]) + b, act));
        }
        *reinterpret_cast<ef_pack<T, VEC>*>(y + e) = out;
    }
    // The elements past the last whole group (fewer than VEC), one per thread of block 0.
    const long long tail = groups * VEC;
    if (blockIdx.x == 0 && tail + threadIdx.x < n) {
        const long long e = tail + threadIdx.x;
        y[e] = ef_from_float<T>(ef_act(ef_to_float(x[e]) + ef_bias_at(bias, e, cols), act));
    }
}

template <typename T>
__device__ __forceinline__ void ef_bias_act_fwd(const T* __restrict__ x, const T* __restrict__ bias,
                                                T* __restrict__ y, long long n, long long cols,
                                                int act) {
    constexpr int V = ef_vec<T>::n;
    const bool vec = ef_aligned(x, 16) && ef_aligned(y, 16) &&
                     (bias == nullptr || (cols % V == 0 && ef_aligned(bias, 16)));
    if (vec) {
        ef_bias_act_fwd_loop<T, V>(x, bias, y, n, cols, act);
    } else {
        ef_bias_act_fwd_loop<T, 1>(x, bias, y, n, cols, act);
    }
}

// -- backward, elementwise -------------------------------------------------------------------

template <typename T, int VEC>
__device__ __forceinline__ void ef_act_bwd_loop(const T* __restrict__ g, const T* __restrict__ x,
                                                const T* __restrict__ bias, T* __restrict__ dx,
                                                long long n, long long cols, int act) {
    const long long groups = n / VEC;
    const long long stride = (long long)gridDim.x * EF_BLOCK;
    for (long long i = (long long)blockIdx.x * EF_BLOCK + threadIdx.x; i < groups; i += stride) {
        const long long e = i * VEC;
        const ef_pack<T, VEC> gp = *reinterpret_cast<const ef_pack<T, VEC>*>(g + e);
        const ef_pack<T, VEC> xp = *reinterpret_cast<const ef_pack<T, VEC>*>(x + e);
        const long long c = bias == nullptr ? 0 : e % cols;
        ef_pack<T, VEC> out;
#pragma unroll
        for (int k = 0; k < VEC; ++k) {
            const float b = bias == nullptr ? 0.0f : ef_to_float(bias[c + k]);
            out.v[k] = ef_from_float<T>(ef_to_float(gp.v[k]) *
                                        ef_act_grad(ef_to_float(xp.v[k]) + b, act));
        }
        *reinterpret_cast<ef_pack<T, VEC>*>(dx + e) = out;
    }
    const long long tail = groups * VEC;
    if (blockIdx.x == 0 && tail + threadIdx.x < n) {
        const long long e = tail + threadIdx.x;
        dx[e] = ef_from_float<T>(ef_to_float(g[e]) *
                                 ef_act_grad(ef_to_float(x[e]) + ef_bias_at(bias, e, cols), act));
    }
}

template <typename T>
__device__ __forceinline__ void ef_act_bwd(const T* __restrict__ g, const T* __restrict__ x,
                                           const T* __restrict__ bias, T* __restrict__ dx,
                                           long long n, long long cols, int act) {
    constexpr int V = ef_vec<T>::n;
    const bool vec = ef_aligned(g, 16) && ef_aligned(x, 16) && ef_aligned(dx, 16) &&
                     (bias == nullptr || (cols % V == 0 && ef_aligned(bias, 16)));
    if (vec) {
        ef_act_bwd_loop<T, V>(g, x, bias, dx, n, cols, act);
    } else {
        ef_act_bwd_loop<T, 1>(g, x, bias, dx, n, cols, act);
    }
}

// -- the kernels ---------------------------------------------------------------------------

#define EF_ACT_KERNELS(T, DT)                                                                    \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_bias_act_fwd_##DT(const T* x, const T* bias, T* y, long long n, long long cols,       \
                             int act) {                                                          \
        ef_bias_act_fwd<T>(x, bias, y, n, cols, act);                                            \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_act_bwd_##DT(const T* g, const T* x, const T* bias, T* dx, long long n,               \
                        long long cols, int act) {                                               \
        ef_act_bwd<T>(g, x, bias, dx, n, cols, act);                                             \
    }                                                                                            \
    /* dz (null: not written, for act == none where dz is g itself) and dbias partials. */       \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_bias_act_bwd_##DT(const T* g, const T* x, const T* bias, T* dz, float* partial,       \
                             long long rows, long long cols, long long rows_per_chunk,           \
                             int act) {                                                          \
        ef_colsum_partial(rows, cols, rows_per_chunk, partial, [&](long long r, long long c) {   \
            const long long i = r * cols + c;                                                    \
            const float gi = ef_to_float(g[i]);                                                  \
            if (act == EF_ACT_NONE) {                                                            \
                return gi;                                                                       \
            }                                                                                    \
            const float d = gi * ef_act_grad(ef_to_float(x[i]) + ef_to_float(bias[c]), act);     \
            const T stored = ef_from_float<T>(d);                                                \
            if (dz != nullptr) {                                                                 \
                dz[i] = stored;                                                                  \
            }                                                                                    \
            /* the bias gradient sums the rounded dz, exactly what the caller receives */        \
            return ef_to_float(stored);                                                          \
        });                                                                                      \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_bias_colsum_##DT(const float* partial, int chunks, long long cols, T* out) {          \
        ef_colsum_final<T>(partial, chunks, cols, out);                                          \
    }

EF_ACT_KERNELS(float, f32)
EF_ACT_KERNELS(ef_half, f16)
EF_ACT_KERNELS(ef_bfloat, bf16)
