// ef_emu.h: runs the CUDA C kernels of eagerflow_cuda/csrc on the CPU, for unit tests on
// machines without a GPU. Included (g++ -include) before a .cu file compiled as C++17.
//
// A launch runs its blocks one after another; the threads of a block are fibers scheduled in
// turn on the calling thread, so __syncthreads and warp shuffles are real barriers: a thread
// waits there until every live thread of its block (or warp) has arrived, and a thread that
// returns early leaves them (as on the GPU). __shared__ variables become statics: one instance,
// used by one block at a time. Warp shuffles exchange through a per-warp buffer between two
// barriers and need every lane of the warp (the kernels use full masks only). A kernel whose
// threads do not all reach a barrier is reported as a deadlock, at once.
//
// Device-only code paths (`#ifdef __CUDA_ARCH__`, inline PTX) are not exercised here; the
// functions they call in the emulator (ef_emu_half_to_float...) are checked bit for bit against
// NumPy by the tests.
#pragma once

#include <math.h>
#include <ucontext.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef EF_EMU_SCAN
#define __global__ EF_EMU_KERNEL  // marks kernels for the scan that lists them (cuda_emulator.py)
#else
#define __global__
#endif
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};
struct ef_emu_uint3 {
    unsigned int x = 0, y = 0, z = 0;
};

// CUDA's vector types, with their alignment.
struct alignas(8) float2 {
    float x, y;
};
struct alignas(16) float4 {
    float x, y, z, w;
};
struct alignas(16) double2 {
    double x, y;
};
struct alignas(16) int4 {
    int x, y, z, w;
};

inline ef_emu_uint3 threadIdx;
inline ef_emu_uint3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;

// -- bit casts and intrinsics -----------------------------------------------------------------

inline float __uint_as_float(unsigned int u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline unsigned int __float_as_uint(float f) {
    unsigned int u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, 4);
    return f;
}
inline int __float_as_int(float f) {
    int i;
    std::memcpy(&i, &f, 4);
    return i;
}
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }

// IEEE binary16 <-> binary32, round to nearest even (what cvt.f32.f16 / cvt.rn.f16.f32 do).
inline float ef_emu_half_to_float(unsigned short h) {
    const unsigned int sign = (unsigned int)(h & 0x8000u) << 16;
    const unsigned int exp = (h >> 10) & 0x1fu;
    const unsigned int man = h & 0x3ffu;
    if (exp == 0x1fu) {
        return __uint_as_float(sign | 0x7f800000u | (man << 13));
    }
    if (exp == 0) {  // zero or subnormal: man * 2^-24, exact in float
        const float f = (float)man * 5.9604644775390625e-08f;
        return sign ? -f : f;
    }
    return __uint_as_float(sign | ((exp + 112u) << 23) | (man << 13));
}

inline unsigned short ef_emu_float_to_half(float f) {
    const unsigned int u = __float_as_uint(f);
    const unsigned int sign = (u >> 16) & 0x8000u;
    const unsigned int a = u & 0x7fffffffu;
    if (a > 0x7f800000u) {  // NaN: quiet, keep the top payload bits
        return (unsigned short)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    }
    if (a >= 0x477ff000u) {  // >= 65520 rounds to infinity (also infinity itself)
        return (unsigned short)(sign | 0x7c00u);
    }
    if (a < 0x38800000u) {  // below 2^-14: a subnormal half (or zero), man = round(|f| * 2^24)
        const float scaled = __uint_as_float(a) * 16777216.0f;  // exact: a power of two
        return (unsigned short)(sign | (unsigned int)nearbyintf(scaled));
    }
    unsigned int h = ((((a >> 23) - 112u) << 10) | ((a >> 13) & 0x3ffu));
    const unsigned int rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) {
        h += 1u;  // a carry into the exponent is right (it rounds up to the next binade)
    }
    return (unsigned short)(sign | h);
}

// -- threads as fibers ---------------------------------------------------------------------------
//
// The threads of a block are fibers (ucontext) on the calling OS thread, run in order by a
// scheduler until each finishes or waits at a barrier; a barrier releases its waiters when every
// live thread of its scope (block, or warp) has arrived. A thread that returns leaves every
// barrier, as on the GPU. If no thread can run while some have not finished, the kernel is
// deadlocked (a __syncthreads or shuffle that not all threads reach): the emulator says so and
// aborts.

enum { EF_EMU_RUNNABLE = 0, EF_EMU_AT_BLOCK = 1, EF_EMU_AT_WARP = 2, EF_EMU_DONE = 3 };

struct ef_emu_fiber {
    ucontext_t ctx;
    ef_emu_uint3 tid;
    int lane = 0;
    int warp = 0;
    int state = EF_EMU_RUNNABLE;
};

struct ef_emu_sched {
    ucontext_t main;
    std::vector<ef_emu_fiber> fibers;
    std::vector<int> warp_live, warp_waiting, warp_lanes;
    std::vector<std::vector<unsigned char>> slots;  // per warp: 32 lanes x 8 bytes
    int live = 0;
    int block_waiting = 0;
    int current = -1;
    void (*body)(void*) = nullptr;
    void* body_arg = nullptr;
};

inline ef_emu_sched* ef_emu_s = nullptr;
inline int ef_emu_lane = 0;
inline int ef_emu_warp_id = 0;

inline void ef_emu_wait(int where) {
    ef_emu_fiber& f = ef_emu_s->fibers[ef_emu_s->current];
    f.state = where;
    if (where == EF_EMU_AT_BLOCK) {
        ++ef_emu_s->block_waiting;
    } else {
        ++ef_emu_s->warp_waiting[f.warp];
    }
    swapcontext(&f.ctx, &ef_emu_s->main);
}

inline void ef_emu_entry() {
    ef_emu_s->body(ef_emu_s->body_arg);
    ef_emu_fiber& f = ef_emu_s->fibers[ef_emu_s->current];
    f.state = EF_EMU_DONE;
    --ef_emu_s->live;
    --ef_emu_s->warp_live[f.warp];
}  // returns to uc_link: the scheduler

// Releases the waiters of every barrier that all live threads of its scope have reached.
inline void ef_emu_release() {
    ef_emu_sched& s = *ef_emu_s;
    if (s.block_waiting > 0 && s.block_waiting == s.live) {
        for (ef_emu_fiber& f : s.fibers) {
            if (f.state == EF_EMU_AT_BLOCK) f.state = EF_EMU_RUNNABLE;
        }
        s.block_waiting = 0;
    }
    for (size_t w = 0; w < s.warp_live.size(); ++w) {
        if (s.warp_waiting[w] > 0 && s.warp_waiting[w] == s.warp_live[w]) {
            for (ef_emu_fiber& f : s.fibers) {
                if (f.warp == (int)w && f.state == EF_EMU_AT_WARP) f.state = EF_EMU_RUNNABLE;
            }
            s.warp_waiting[w] = 0;
        }
    }
}

inline void __syncthreads() { ef_emu_wait(EF_EMU_AT_BLOCK); }

inline void __syncwarp(unsigned int = 0xffffffffu) { ef_emu_wait(EF_EMU_AT_WARP); }

inline void ef_emu_check_mask(unsigned int mask) {
    const int lanes = ef_emu_s->warp_lanes[ef_emu_warp_id];
    const unsigned int need = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
    if ((mask & need) != need) {
        std::fprintf(stderr, "ef_emu: a warp shuffle with mask %08x: the emulator needs all %d "
                     "lanes of the warp\n", mask, lanes);
        std::abort();
    }
}

template <typename T>
inline T ef_emu_exchange(T v, int src) {
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    unsigned char* slots = ef_emu_s->slots[ef_emu_warp_id].data();
    std::memcpy(slots + 8 * ef_emu_lane, &v, sizeof(T));
    ef_emu_wait(EF_EMU_AT_WARP);
    T r;
    std::memcpy(&r, slots + 8 * src, sizeof(T));
    ef_emu_wait(EF_EMU_AT_WARP);  // nobody overwrites a slot before every lane has read
    return r;
}

template <typename T>
inline T __shfl_sync(unsigned int mask, T v, int src, int width = 32) {
    ef_emu_check_mask(mask);
    const int base = ef_emu_lane & ~(width - 1);
    return ef_emu_exchange(v, base + (src & (width - 1)));
}

template <typename T>
inline T __shfl_xor_sync(unsigned int mask, T v, int lane_mask, int width = 32) {
    ef_emu_check_mask(mask);
    int src = ef_emu_lane ^ lane_mask;
    if ((src & ~(width - 1)) != (ef_emu_lane & ~(width - 1))) {
        src = ef_emu_lane;
    }
    return ef_emu_exchange(v, src);
}

template <typename T>
inline T __shfl_down_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
    ef_emu_check_mask(mask);
    const int in_segment = ef_emu_lane & (width - 1);
    const int src = in_segment + (int)delta < width ? ef_emu_lane + (int)delta : ef_emu_lane;
    return ef_emu_exchange(v, src);
}

template <typename T>
inline T __shfl_up_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
    ef_emu_check_mask(mask);
    const int in_segment = ef_emu_lane & (width - 1);
    const int src = in_segment - (int)delta >= 0 ? ef_emu_lane - (int)delta : ef_emu_lane;
    return ef_emu_exchange(v, src);
}

// -- launching ----------------------------------------------------------------------------------

#define EF_EMU_STACK (128 * 1024)

// Fiber stacks, kept from launch to launch (allocating and faulting in fresh ones per launch
// would cost more than the kernels).
inline char* ef_emu_stack(unsigned int t) {
    static std::vector<std::unique_ptr<char[]>> stacks;
    while (stacks.size() <= t) {
        stacks.emplace_back(new char[EF_EMU_STACK]);
    }
    return stacks[t].get();
}

// Runs one block of `threads` fibers, each calling body(arg).
inline void ef_emu_run_block(ef_emu_sched& s, dim3 block, unsigned int threads) {
    s.live = (int)threads;
    s.block_waiting = 0;
    for (size_t w = 0; w < s.warp_live.size(); ++w) {
        s.warp_live[w] = s.warp_lanes[w];
        s.warp_waiting[w] = 0;
    }
    for (unsigned int t = 0; t < threads; ++t) {
        ef_emu_fiber& f = s.fibers[t];
        f.tid = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
        f.lane = (int)(t % 32);
        f.warp = (int)(t / 32);
        f.state = EF_EMU_RUNNABLE;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = ef_emu_stack(t);
        f.ctx.uc_stack.ss_size = EF_EMU_STACK;
        f.ctx.uc_link = &s.main;
        makecontext(&f.ctx, ef_emu_entry, 0);
    }
    for (;;) {
        bool ran = false;
        for (unsigned int t = 0; t < threads; ++t) {
            if (s.fibers[t].state != EF_EMU_RUNNABLE) continue;
            s.current = (int)t;
            threadIdx = s.fibers[t].tid;
            ef_emu_lane = s.fibers[t].lane;
            ef_emu_warp_id = s.fibers[t].warp;
            swapcontext(&s.main, &s.fibers[t].ctx);
            ef_emu_release();
            ran = true;
        }
        if (s.live == 0) return;
        if (!ran) {
            std::fprintf(stderr, "ef_emu: deadlock in block (%u, %u, %u): %d threads wait at a "
                         "barrier (__syncthreads or a warp shuffle) that the others never reach\n",
                         blockIdx.x, blockIdx.y, blockIdx.z, s.live);
            std::abort();
        }
    }
}

template <typename F>
inline void ef_emu_call(void* f) {
    (*static_cast<F*>(f))();
}

// Copies each kernel argument out of `params` (the layout of cuLaunchKernel's kernelParams: one
// pointer to each argument's bytes) and runs the grid. Returns 0, or -1 for a bad launch shape.
template <typename... A, std::size_t... I>
inline int ef_emu_run(void (*kernel)(A...), dim3 grid, dim3 block, void** params,
                      std::index_sequence<I...>) {
    std::tuple<std::decay_t<A>...> args;
    ((std::memcpy(static_cast<void*>(&std::get<I>(args)), params[I], sizeof(A))), ...);
    const unsigned int threads = block.x * block.y * block.z;
    if (threads == 0 || threads > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0) {
        return -1;
    }
    gridDim = grid;
    blockDim = block;
    ef_emu_sched s;
    const int nwarps = (int)((threads + 31) / 32);
    s.fibers = std::vector<ef_emu_fiber>(threads);
    s.warp_live = std::vector<int>(nwarps);
    s.warp_waiting = std::vector<int>(nwarps);
    s.warp_lanes = std::vector<int>(nwarps);
    s.slots = std::vector<std::vector<unsigned char>>(nwarps, std::vector<unsigned char>(256));
    for (int w = 0; w < nwarps; ++w) {
        s.warp_lanes[w] = (int)std::min<unsigned int>(32u, threads - 32u * w);
    }
    auto body = [&]() { kernel(std::get<I>(args)...); };
    s.body = &ef_emu_call<decltype(body)>;
    s.body_arg = &body;
    ef_emu_s = &s;
    for (unsigned int bz = 0; bz < grid.z; ++bz) {
        for (unsigned int by = 0; by < grid.y; ++by) {
            for (unsigned int bx = 0; bx < grid.x; ++bx) {
                blockIdx = {bx, by, bz};
                ef_emu_run_block(s, block, threads);
            }
        }
    }
    ef_emu_s = nullptr;
    return 0;
}

template <typename... A>
inline int ef_emu_launch(void (*kernel)(A...), unsigned int gx, unsigned int gy, unsigned int gz,
                         unsigned int bx, unsigned int by, unsigned int bz, void** params) {
    return ef_emu_run(kernel, dim3{gx, gy, gz}, dim3{bx, by, bz}, params,
                      std::index_sequence_for<A...>{});
}

// The parameter list of a kernel: for each parameter, its kind (1 pointer, 2 floating point,
// 3 signed integer, 4 unsigned integer or bool) and its size in bytes, for the Python side to
// check what it packs against what the kernel reads. Returns the number of parameters.
template <typename P>
inline long long ef_emu_kind() {
    if (std::is_pointer<P>::value) return 1;
    if (std::is_floating_point<P>::value) return 2;
    if (std::is_signed<P>::value) return 3;
    return 4;
}

template <typename... A>
inline int ef_emu_signature(void (*)(A...), long long* out, int cap) {
    const long long kinds[] = {0, ef_emu_kind<A>()...};
    const long long sizes[] = {0, (long long)sizeof(A)...};
    const int n = (int)sizeof...(A);
    for (int i = 0; i < n && 2 * i + 1 < cap; ++i) {
        out[2 * i] = kinds[i + 1];
        out[2 * i + 1] = sizes[i + 1];
    }
    return n;
}
