// Float32 sums for eagerflow's CUDA backend, loaded at run time with cupy.RawModule
// (see ../_fused.py) and compile-checked with nvcc by `python -m eagerflow_cuda.build --check`.
//
// The kernels accumulate in double. Sums are memory-bound, so the wider adds cost nothing
// measurable, and the result is the float32 rounding of a nearly exact sum, where a float
// accumulator drifts by ~sqrt(n) ulps. The order of the adds depends only on n and the launch
// shape, never on timing, so results are deterministic from run to run (no atomics).
//
// Launch every kernel here with EF_BLOCK threads per block.

#define EF_BLOCK 256
#define EF_WARPS (EF_BLOCK / 32)
#define EF_FULL_MASK 0xffffffffu

__device__ __forceinline__ double ef_warp_sum(double v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_down_sync(EF_FULL_MASK, v, offset);
    }
    return v;
}

// The sum of v over the block, valid in thread 0. Every thread of the block must call it.
__device__ __forceinline__ double ef_block_sum(double v) {
    __shared__ double warp_sums[EF_WARPS];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = ef_warp_sum(v);
    if (lane == 0) {
        warp_sums[warp] = v;
    }
    __syncthreads();
    if (warp == 0) {
        v = lane < EF_WARPS ? warp_sums[lane] : 0.0;
        v = ef_warp_sum(v);
    }
    return v;
}

// Pass 1 of a full sum: block b writes the sum of its grid-strided share of x[0, n) to
// partial[b]. The body is read as float4 (16-byte loads, coalesced across the warp) from the
// first 16-byte-aligned element on; a view such as x[1:] starts unaligned, so up to 3 head
// elements and up to 3 tail elements are read one float at a time.
extern "C" __global__ void __launch_bounds__(EF_BLOCK)
ef_sum_f32_partial(const float* __restrict__ x, long long n, double* __restrict__ partial) {
    const long long tid = (long long)blockIdx.x * EF_BLOCK + threadIdx.x;
    const long long nthreads = (long long)gridDim.x * EF_BLOCK;
    // Bytes past the last 16-byte boundary; float pointers are 4-byte aligned, so the head
    // before the next boundary is 0..3 elements.
    const unsigned misalign = (unsigned)((unsigned long long)x & 15ull);
    long long head = (long long)(((16u - misalign) & 15u) >> 2);
    if (head > n) {
        head = n;
    }
    const long long nvec = (n - head) >> 2;
    const float4* __restrict__ body = reinterpret_cast<const float4*>(x + head);

    double acc = 0.0;
    for (long long i = tid; i < nvec; i += nthreads) {
        const float4 v = body[i];
        acc += ((double)v.x + (double)v.y) + ((double)v.z + (double)v.w);
    }
    const long long tail = head + (nvec << 2);
    if (tid < head) {
        acc += (double)x[tid];
    }
    if (tid < n - tail) {
        acc += (double)x[tail + tid];
    }
    acc = ef_block_sum(acc);
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = acc;
    }
}

// Pass 2 of a full sum: one block adds the count partial sums and rounds to float32.
extern "C" __global__ void __launch_bounds__(EF_BLOCK)
ef_sum_f64_final(const double* __restrict__ partial, int count, float* __restrict__ out) {
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += EF_BLOCK) {
        acc += partial[i];
    }
    acc = ef_block_sum(acc);
    if (threadIdx.x == 0) {
        out[0] = (float)acc;
    }
}

// Sum over the last axis of a C-contiguous (rows, cols) array: out[r] = sum_c x[r, c].
// One warp per row, EF_WARPS rows per block; lanes read consecutive floats (coalesced).
extern "C" __global__ void __launch_bounds__(EF_BLOCK)
ef_sum_rows_f32(const float* __restrict__ x, long long rows, long long cols,
                float* __restrict__ out) {
    const long long row = (long long)blockIdx.x * EF_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;  // row is the same for the whole warp, so the warp leaves together
    }
    const int lane = threadIdx.x & 31;
    const float* __restrict__ r = x + row * cols;
    double acc = 0.0;
    for (long long c = lane; c < cols; c += 32) {
        acc += (double)r[c];
    }
    acc = ef_warp_sum(acc);
    if (lane == 0) {
        out[row] = (float)acc;
    }
}
