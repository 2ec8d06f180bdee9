// Test-only kernel: the float <-> float16 / bfloat16 conversions of ef_common.cuh, element by
// element, so that tests/test_cuda_kernels.py can compare their bits with NumPy and ml_dtypes.
#include "ef_common.cuh"

extern "C" __global__ void ef_test_convert(const float* in, ef_half* h, ef_bfloat* b,
                                           const ef_half* hin, float* hout, long long n) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        h[i] = ef_from_float<ef_half>(in[i]);
        b[i] = ef_from_float<ef_bfloat>(in[i]);
        hout[i] = ef_to_float(hin[i]);
    }
}
