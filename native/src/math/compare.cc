// Bool-valued kernels (TF.js stores bool as a Uint8Array of 0/1):
// comparisons and logical ops with broadcasting, name(a, aShape, b, bShape, y, yShape), and the
// maps logical_not(x, y) and isnan_f32(x, y). NaN compares unequal to everything, as in JS.
#include "elementwise.h"

namespace unet {
namespace math {
namespace {

#define COMPARISONS(T, sfx)                                  \
  UNET_BINARY(equal_##sfx, T, uint8_t, a == b);              \
  UNET_BINARY(not_equal_##sfx, T, uint8_t, a != b);          \
  UNET_BINARY(greater_##sfx, T, uint8_t, a > b);             \
  UNET_BINARY(greater_equal_##sfx, T, uint8_t, a >= b);      \
  UNET_BINARY(less_##sfx, T, uint8_t, a < b);                \
  UNET_BINARY(less_equal_##sfx, T, uint8_t, a <= b)

COMPARISONS(float, f32);
COMPARISONS(int32_t, i32);

UNET_BINARY(logical_and, uint8_t, uint8_t, (a && b) ? 1 : 0);
UNET_BINARY(logical_or, uint8_t, uint8_t, (a || b) ? 1 : 0);

Napi::Value logical_not(const Napi::CallbackInfo& info) {
  return RunMap<uint8_t, uint8_t>(info, [](uint8_t v) -> uint8_t { return v ? 0 : 1; });
}
UNET_KERNEL("logical_not", logical_not);

Napi::Value isnan_f32(const Napi::CallbackInfo& info) {
  return RunMap<float, uint8_t>(info, [](float v) -> uint8_t { return v != v; });
}
UNET_KERNEL("isnan_f32", isnan_f32);

}  // namespace
}  // namespace math
}  // namespace unet
