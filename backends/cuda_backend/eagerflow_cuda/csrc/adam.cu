// The Adam / AdamW update of parameters in place, one kernel per call; Keras' formulation with
// the bias correction folded into the step size. Python launchers: eagerflow_cuda/fused.py;
// the same math in NumPy: eagerflow_cuda/reference.py.
//
//   p -= p * decay                         (AdamW: decay = lr * weight_decay; Adam: 0)
//   m += (g - m) * c1                      (c1 = 1 - beta_1)
//   v += (g * g - v) * c2                  (c2 = 1 - beta_2)
//   p -= m * alpha / (sqrt(v) + eps)       (alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t))
//
// The host computes alpha, c1, c2 and decay in double and passes them rounded to float; the
// update is computed in float32 for every storage type. Parameter and gradient have storage
// type T; the moments m and v have type S (T itself, or float32 for 16-bit parameters).
//
//   ef_adam_<T>_<S>(p, g, m, v, n, alpha, c1, c2, eps, decay)
//       one tensor; grid-stride over chunks of EF_ADAM_CHUNK elements.
//   ef_adam_multi_<T>_<S>(table, tensors, alpha, c1, c2, eps, decay)
//       many tensors of one dtype pair in one launch. `table` is an int64 array on the device:
//       [p_0, g_0, m_0, v_0, ..., p_k, g_k, m_k, v_k | n_0 ... n_k | start_0 ... start_k+1]
//       (pointers, sizes, and the running count of chunks before each tensor); block b works on
//       chunk b - start_t of the tensor t with start_t <= b < start_t+1.
// Within a chunk, groups of 4 elements are read and written with one access per array where all
// four pointers are aligned to the group; the rest element by element.

#include "ef_common.cuh"

#define EF_ADAM_CHUNK (EF_BLOCK * 4 * 4)  // 4 groups of 4 elements per thread

struct ef_adam_hp {
    float alpha, c1, c2, eps, decay;
};

template <typename T, typename S>
__device__ __forceinline__ void ef_adam_one(T& p, T g, S& m, S& v, const ef_adam_hp& h) {
    float pf = ef_to_float(p);
    const float gf = ef_to_float(g);
    float mf = ef_to_float(m);
    float vf = ef_to_float(v);
    pf -= pf * h.decay;
    mf += (gf - mf) * h.c1;
    vf += (gf * gf - vf) * h.c2;
    pf -= mf * h.alpha / (sqrtf(vf) + h.eps);
    p = ef_from_float<T>(pf);
    m = ef_from_float<S>(mf);
    v = ef_from_float<S>(vf);
}

// Elements [begin, end) of one tensor, by this block's threads.
template <typename T, typename S>
__device__ __forceinline__ void ef_adam_range(T* __restrict__ p, const T* __restrict__ g,
                                              S* __restrict__ m, S* __restrict__ v,
                                              long long begin, long long end,
                                              const ef_adam_hp& h) {
    const bool vec = ef_aligned(p + begin, sizeof(T) * 4) && ef_aligned(g + begin, sizeof(T) * 4) &&
                     ef_aligned(m + begin, sizeof(S) * 4) && ef_aligned(v + begin, sizeof(S) * 4);
    long long e = begin;
    if (vec) {
        const long long whole = begin + (end - begin) / 4 * 4;
        for (long long i = begin + (long long)threadIdx.x * 4; i < whole; i += EF_BLOCK * 4) {
            ef_pack<T, 4> pp = *reinterpret_cast<ef_pack<T, 4>*>(p + i);
            const ef_pack<T, 4> gp = *reinterpret_cast<const ef_pack<T, 4>*>(g + i);
            ef_pack<S, 4> mp = *reinterpret_cast<ef_pack<S, 4>*>(m + i);
            ef_pack<S, 4> vp = *reinterpret_cast<ef_pack<S, 4>*>(v + i);
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                ef_adam_one<T, S>(pp.v[k], gp.v[k], mp.v[k], vp.v[k], h);
            }
            *reinterpret_cast<ef_pack<T, 4>*>(p + i) = pp;
            *reinterpret_cast<ef_pack<S, 4>*>(m + i) = mp;
            *reinterpret_cast<ef_pack<S, 4>*>(v + i) = vp;
        }
        e = whole;
    }
    for (long long i = e + threadIdx.x; i < end; i += EF_BLOCK) {
        ef_adam_one<T, S>(p[i], g[i], m[i], v[i], h);
    }
}

template <typename T, typename S>
__device__ __forceinline__ void ef_adam(T* p, const T* g, S* m, S* v, long long n,
                                        const ef_adam_hp& h) {
    const long long chunks = (n + EF_ADAM_CHUNK - 1) / EF_ADAM_CHUNK;
    for (long long c = blockIdx.x; c < chunks; c += gridDim.x) {
        const long long begin = c * EF_ADAM_CHUNK;
        ef_adam_range<T, S>(p, g, m, v, begin, ef_min_ll(n, begin + EF_ADAM_CHUNK), h);
    }
}

template <typename T, typename S>
__device__ __forceinline__ void ef_adam_multi(const long long* __restrict__ table, int tensors,
                                              const ef_adam_hp& h) {
    const long long* sizes = table + 4 * tensors;
    const long long* starts = sizes + tensors;
    const long long total = starts[tensors];
    for (long long b = blockIdx.x; b < total; b += gridDim.x) {
        int lo = 0, hi = tensors - 1;  // the last t with starts[t] <= b (binary search)
        while (lo < hi) {
            const int mid = (lo + hi + 1) >> 1;
            if (starts[mid] <= b) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        const int t = lo;
        const long long n = sizes[t];
        const long long begin = (b - starts[t]) * EF_ADAM_CHUNK;
        ef_adam_range<T, S>(reinterpret_cast<T*>(table[4 * t]),
                            reinterpret_cast<const T*>(table[4 * t + 1]),
                            reinterpret_cast<S*>(table[4 * t + 2]),
                            reinterpret_cast<S*>(table[4 * t + 3]), begin,
                            ef_min_ll(n, begin + EF_ADAM_CHUNK), h);
    }
}

#define EF_ADAM_KERNELS(T, S, DT, DS)                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_adam_##DT##_##DS(T* p, const T* g, S* m, S* v, long long n, float alpha, float c1,    \
                            float c2, float eps, float decay) {                                  \
        const ef_adam_hp h = {alpha, c1, c2, eps, decay};                                        \
        ef_adam<T, S>(p, g, m, v, n, h);                                                         \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_adam_multi_##DT##_##DS(const long long* table, int tensors, float alpha, float c1,    \
                                  float c2, float eps, float decay) {                            \
        const ef_adam_hp h = {alpha, c1, c2, eps, decay};                                        \
        ef_adam_multi<T, S>(table, tensors, h);                                                  \
    }

EF_ADAM_KERNELS(float, float, f32, f32)
EF_ADAM_KERNELS(ef_half, ef_half, f16, f16)
EF_ADAM_KERNELS(ef_half, float, f16, f32)
EF_ADAM_KERNELS(ef_bfloat, ef_bfloat, bf16, bf16)
EF_ADAM_KERNELS(ef_bfloat, float, bf16, f32)
