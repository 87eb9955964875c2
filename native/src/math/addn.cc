// AddN: y = x0 + x1 + ... + x(k-1), all of one shape. JS: add_n_<f32|i32>([x0, ...], y).
// Summed in input order into a zeroed y like the CPU kernel, so float32 results are identical;
// int32 sums wrap modulo 2^32 like an Int32Array store. Blocks of the output stay in cache while
// every input is added into them.
#include <type_traits>

#include "elementwise.h"

namespace unet {
namespace math {
namespace {

constexpr int64_t kBlock = 4096;

template <typename T>
Napi::Value AddN(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(info[0].IsArray(), env, "add_n: expected an array of inputs");
  Napi::Array list = info[0].As<Napi::Array>();
  T* y = Typed<T>(info, 1);
  const int64_t n = static_cast<int64_t>(Length(info, 1));
  std::vector<const T*> xs(list.Length());
  for (uint32_t k = 0; k < list.Length(); k++) {
    Napi::Value v = list.Get(k);
    Check(v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == ArrayKind<T>::kind &&
              static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength()) == n,
          env, std::string("add_n: every input must be a ") + ArrayKind<T>::name + " of y's length");
    xs[k] = Data<T>(v, "add_n input");
  }
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t begin = blk * kBlock, end = std::min(n, begin + kBlock);
    T* out = y + begin;
    const int64_t len = end - begin;
    for (int64_t i = 0; i < len; i++) out[i] = T(0);
    for (const T* x : xs) {
      const T* in = x + begin;
      if constexpr (std::is_same_v<T, float>) {
#pragma omp simd
        for (int64_t i = 0; i < len; i++) out[i] += in[i];
      } else {
#pragma omp simd
        for (int64_t i = 0; i < len; i++) out[i] = static_cast<T>(static_cast<uint32_t>(out[i]) + static_cast<uint32_t>(in[i]));
      }
    }
  }
  return env.Undefined();
}

Napi::Value add_n_f32(const Napi::CallbackInfo& info) { return AddN<float>(info); }
Napi::Value add_n_i32(const Napi::CallbackInfo& info) { return AddN<int32_t>(info); }
UNET_KERNEL("add_n_f32", add_n_f32);
UNET_KERNEL("add_n_i32", add_n_i32);

}  // namespace
}  // namespace math
}  // namespace unet
