// Stateless, counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011; the generator of cuRAND's and JAX's device paths).
// Python launchers: eagerflow_cuda/random.py; the same stream in NumPy: eagerflow_cuda/_philox.py.
//
// A draw is a pure function of (key, counter, n): output group q (0, 1, 2, ...) is
//     philox(counter_words(counter + q), key_words(key))       (a 128-bit counter, 64-bit key)
// four 32-bit words per group. float32, float16 and bfloat16 outputs take one word per value
// (4 values per group); float64 takes two words per value (2 values per group). So a draw of n
// values uses ceil(n / 4) (float64: ceil(n / 2)) counters, and the next draw starts there.
//
//   uniform in [0, 1):  float32 (w >> 8) * 2^-24, float16 (w >> 21) * 2^-11,
//                       bfloat16 (w >> 24) * 2^-8, float64 ((w0 << 32 | w1) >> 11) * 2^-53.
//                       Each is exactly representable in its type, so no value rounds up to 1.
//   normal (Box-Muller): u1 = ((w >> 8) + 1) * 2^-24 in (0, 1], u2 = (w' >> 8) * 2^-24,
//                       r = sqrt(-2 log u1), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2), computed in
//                       float32 (words (0, 1) give values 0 and 1 of the group, (2, 3) values 2
//                       and 3) and rounded to the output type; float64 computes in double from
//                       53-bit uniforms (u1 in (0, 1] from words 0, 1; u2 from words 2, 3).
//
// One thread per group, grid-stride; a whole group is stored with one access.

#include "ef_common.cuh"

#define EF_PHILOX_M0 0xD2511F53u
#define EF_PHILOX_M1 0xCD9E8D57u
#define EF_PHILOX_W0 0x9E3779B9u
#define EF_PHILOX_W1 0xBB67AE85u

struct ef_u32x4 {
    unsigned int w[4];
};

__device__ __forceinline__ ef_u32x4 ef_philox4x32_10(ef_u32x4 c, unsigned int k0,
                                                     unsigned int k1) {
#pragma unroll
    for (int round = 0; round < 10; ++round) {
        const unsigned int hi0 = __umulhi(EF_PHILOX_M0, c.w[0]);
        const unsigned int lo0 = EF_PHILOX_M0 * c.w[0];
        const unsigned int hi1 = __umulhi(EF_PHILOX_M1, c.w[2]);
        const unsigned int lo1 = EF_PHILOX_M1 * c.w[2];
        ef_u32x4 r;
        r.w[0] = hi1 ^ c.w[1] ^ k0;
        r.w[1] = lo1;
        r.w[2] = hi0 ^ c.w[3] ^ k1;
        r.w[3] = lo0;
        c = r;
        k0 += EF_PHILOX_W0;
        k1 += EF_PHILOX_W1;
    }
    return c;
}

// The words of group q: the 128-bit counter (counter_hi, counter_lo) + q.
__device__ __forceinline__ ef_u32x4 ef_philox_group(unsigned long long key,
                                                    unsigned long long counter_lo,
                                                    unsigned long long counter_hi,
                                                    unsigned long long q) {
    const unsigned long long lo = counter_lo + q;
    const unsigned long long hi = counter_hi + (lo < counter_lo ? 1ull : 0ull);
    ef_u32x4 c;
    c.w[0] = (unsigned int)lo;
    c.w[1] = (unsigned int)(lo >> 32);
    c.w[2] = (unsigned int)hi;
    c.w[3] = (unsigned int)(hi >> 32);
    return ef_philox4x32_10(c, (unsigned int)key, (unsigned int)(key >> 32));
}

#define EF_TWO_PI_F 6.2831853071795865f
#define EF_TWO_PI_D 6.283185307179586476925286766559

// Values of one group, as floats (for float32 and the 16-bit types).
__device__ __forceinline__ void ef_uniform4(const ef_u32x4& r, float (&out)[4], int shift,
                                            float scale) {
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        out[k] = (float)(r.w[k] >> shift) * scale;
    }
}

__device__ __forceinline__ void ef_normal4(const ef_u32x4& r, float (&out)[4]) {
#pragma unroll
    for (int k = 0; k < 4; k += 2) {
        const float u1 = (float)((r.w[k] >> 8) + 1u) * 5.9604644775390625e-08f;  // 2^-24
        const float u2 = (float)(r.w[k + 1] >> 8) * 5.9604644775390625e-08f;
        const float rad = sqrtf(-2.0f * logf(u1));
        const float theta = EF_TWO_PI_F * u2;
        out[k] = rad * cosf(theta);
        out[k + 1] = rad * sinf(theta);
    }
}

// Stores the `count` (<= N) values of group q; a whole group as one access.
template <typename T, int N, typename V>
__device__ __forceinline__ void ef_store_group(T* __restrict__ out, long long n,
                                               unsigned long long q, const V (&vals)[N]) {
    const long long e = (long long)q * N;
    if (e + N <= n) {
        ef_pack<T, N> p;
#pragma unroll
        for (int k = 0; k < N; ++k) {
            p.v[k] = ef_from_float<T>(vals[k]);
        }
        *reinterpret_cast<ef_pack<T, N>*>(out + e) = p;
    } else {
        for (int k = 0; e + k < n; ++k) {
            out[e + k] = ef_from_float<T>(vals[k]);
        }
    }
}

// double has no ef_from_float: the float64 kernels store directly.
template <int N>
__device__ __forceinline__ void ef_store_group_f64(double* __restrict__ out, long long n,
                                                   unsigned long long q, const double (&vals)[N]) {
    const long long e = (long long)q * N;
    for (int k = 0; k < N && e + k < n; ++k) {
        out[e + k] = vals[k];
    }
}

#define EF_GRID_STRIDE_GROUPS(n, per_group)                                                      \
    const unsigned long long groups = (unsigned long long)(((n) + (per_group) - 1) / (per_group)); \
    for (unsigned long long q = (unsigned long long)blockIdx.x * EF_BLOCK + threadIdx.x;         \
         q < groups; q += (unsigned long long)gridDim.x * EF_BLOCK)

#define EF_UNIFORM_KERNEL(T, DT, SHIFT, SCALE)                                                   \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_uniform_##DT(T* out, long long n, unsigned long long key,                             \
                        unsigned long long counter_lo, unsigned long long counter_hi) {          \
        EF_GRID_STRIDE_GROUPS(n, 4) {                                                            \
            float vals[4];                                                                       \
            ef_uniform4(ef_philox_group(key, counter_lo, counter_hi, q), vals, SHIFT, SCALE);    \
            ef_store_group<T, 4>(out, n, q, vals);                                               \
        }                                                                                        \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(EF_BLOCK)                                       \
        ef_normal_##DT(T* out, long long n, unsigned long long key,                              \
                       unsigned long long counter_lo, unsigned long long counter_hi) {           \
        EF_GRID_STRIDE_GROUPS(n, 4) {                                                            \
            float vals[4];                                                                       \
            ef_normal4(ef_philox_group(key, counter_lo, counter_hi, q), vals);                   \
            ef_store_group<T, 4>(out, n, q, vals);                                               \
        }                                                                                        \
    }

EF_UNIFORM_KERNEL(float, f32, 8, 5.9604644775390625e-08f)  // 2^-24
EF_UNIFORM_KERNEL(ef_half, f16, 21, 4.8828125e-04f)          // 2^-11
EF_UNIFORM_KERNEL(ef_bfloat, bf16, 24, 3.90625e-03f)         // 2^-8

__device__ __forceinline__ double ef_u53(unsigned int hi, unsigned int lo) {
    return (double)((((unsigned long long)hi << 32) | lo) >> 11) * 1.1102230246251565e-16;  // 2^-53
}

extern "C" __global__ void __launch_bounds__(EF_BLOCK)
ef_uniform_f64(double* out, long long n, unsigned long long key, unsigned long long counter_lo,
               unsigned long long counter_hi) {
    EF_GRID_STRIDE_GROUPS(n, 2) {
        const ef_u32x4 r = ef_philox_group(key, counter_lo, counter_hi, q);
        const double vals[2] = {ef_u53(r.w[0], r.w[1]), ef_u53(r.w[2], r.w[3])};
        ef_store_group_f64<2>(out, n, q, vals);
    }
}

extern "C" __global__ void __launch_bounds__(EF_BLOCK)
ef_normal_f64(double* out, long long n, unsigned long long key, unsigned long long counter_lo,
              unsigned long long counter_hi) {
    EF_GRID_STRIDE_GROUPS(n, 2) {
        const ef_u32x4 r = ef_philox_group(key, counter_lo, counter_hi, q);
        const double u1 = ef_u53(r.w[0], r.w[1]) + 1.1102230246251565e-16;  // (0, 1]
        const double u2 = ef_u53(r.w[2], r.w[3]);
        const double rad = sqrt(-2.0 * log(u1));
        const double vals[2] = {rad * cos(EF_TWO_PI_D * u2), rad * sin(EF_TWO_PI_D * u2)};
        ef_store_group_f64<2>(out, n, q, vals);
    }
}
