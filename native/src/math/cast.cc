// Cast between float32, int32 and bool (Uint8Array) as the TF.js CPU kernel does:
// to int32 truncates and wraps like a store into an Int32Array (NaN -> 0), to bool is x != 0
// (NaN -> true). JS: cast_<from>_<to>(x, y) with x and y of equal length.
//
// The CPU kernel casts int32/bool to a wider type by sharing the input's buffer, which leaves a
// float32 tensor stored in an Int32Array or Uint8Array; here every cast writes a buffer of its own
// type, so that native kernels downstream find the array kind that the dtype promises.
#include "elementwise.h"

namespace unet {
namespace math {
namespace {

#define CAST(js, From, To, expr)                                                       \
  Napi::Value js(const Napi::CallbackInfo& info) {                                     \
    return RunMap<From, To>(info, [](From v) -> To { return (expr); });                \
  }                                                                                    \
  UNET_KERNEL(#js, js)

CAST(cast_f32_i32, float, int32_t, ToInt32(v));
CAST(cast_f32_u8, float, uint8_t, v != 0.f);
CAST(cast_i32_f32, int32_t, float, static_cast<float>(v));
CAST(cast_i32_u8, int32_t, uint8_t, v != 0);
CAST(cast_u8_f32, uint8_t, float, static_cast<float>(v));
CAST(cast_u8_i32, uint8_t, int32_t, static_cast<int32_t>(v));

}  // namespace
}  // namespace math
}  // namespace unet
