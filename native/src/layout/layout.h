// Helpers shared by the layout family: dtype-agnostic element access and range-parallel loops.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common.h"

namespace unet {
namespace layout {

// Data-movement kernels never look at values: a Float32Array and an Int32Array are both arrays of
// 4-byte words to them, so one loop serves float32 and int32 tensors.
inline uint32_t* Words(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  Check(info[i].IsTypedArray(), env, "argument " + std::to_string(i) + ": expected a TypedArray");
  napi_typedarray_type t = info[i].As<Napi::TypedArray>().TypedArrayType();
  Check(t == napi_float32_array || t == napi_int32_array || t == napi_uint32_array, env,
        "argument " + std::to_string(i) + ": expected a Float32Array or an Int32Array");
  return Data<uint32_t>(info[i], "argument");
}

// Below this many elements a loop runs on one thread: forking the pool costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

// Runs fn(begin, end) over [0, n), one contiguous range per thread when `parallel`, so that each
// thread can walk its range incrementally instead of decoding every index.
template <typename F>
void ParallelRanges(int64_t n, bool parallel, F fn) {
  if (n <= 0) return;
  if (!parallel || n == 1) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    if (begin < end) fn(begin, end);
  }
}

// The numbers of a 2-D NHWC geometry passed from JS as one array; checked against buffer lengths.
inline std::vector<int64_t> Geometry(const Napi::CallbackInfo& info, size_t i, size_t count, const char* what) {
  std::vector<int64_t> g = Ints(info, i);
  Check(g.size() == count, info.Env(), std::string(what) + ": expected " + std::to_string(count) + " geometry numbers");
  for (int64_t v : g) Check(v >= -(int64_t{1} << 40) && v < (int64_t{1} << 40), info.Env(), std::string(what) + ": geometry out of range");
  return g;
}

inline void CheckLength(const Napi::CallbackInfo& info, size_t i, int64_t expected, const char* what) {
  Check(static_cast<int64_t>(Length(info, i)) == expected, info.Env(),
        std::string(what) + ": argument " + std::to_string(i) + " has " + std::to_string(Length(info, i)) +
            " elements, expected " + std::to_string(expected));
}

}  // namespace layout
}  // namespace unet
