// Fill: every element of y set to one value. JS: fill_<f32|i32|u8>(y, value).
// (ZerosLike needs no kernel call: the buffer pool hands out a zeroed array.)
#include <type_traits>

#include "elementwise.h"

namespace unet {
namespace math {
namespace {

template <typename T>
Napi::Value Fill(const Napi::CallbackInfo& info) {
  T* y = Typed<T>(info, 0);
  // The value converts as a TypedArray store does: rounded to float, or truncated and wrapped.
  const double d = Num(info, 1);
  const T v = std::is_same_v<T, float> ? static_cast<T>(d) : static_cast<T>(ToInt32(d));
  const int64_t n = static_cast<int64_t>(Length(info, 0));
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = v;
  return info.Env().Undefined();
}

Napi::Value fill_f32(const Napi::CallbackInfo& info) { return Fill<float>(info); }
Napi::Value fill_i32(const Napi::CallbackInfo& info) { return Fill<int32_t>(info); }
Napi::Value fill_u8(const Napi::CallbackInfo& info) { return Fill<uint8_t>(info); }
UNET_KERNEL("fill_f32", fill_f32);
UNET_KERNEL("fill_i32", fill_i32);
UNET_KERNEL("fill_u8", fill_u8);

}  // namespace
}  // namespace math
}  // namespace unet
