// Arithmetic binary kernels with numpy broadcasting (elementwise.h): y = op(a, b).
// JS: name_<f32|i32>(a, aShape, b, bShape, y, yShape). Results match the TF.js CPU kernels, which
// compute in double and store into the output TypedArray: float32 +, -, *, / are correctly
// rounded either way; where the float result could differ, the op computes in double too.
#include <cmath>
#include <limits>

#include "elementwise.h"

namespace unet {
namespace math {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Math.max / Math.min: NaN if either operand is NaN (std::fmax would drop it).
inline float MaxF(float a, float b) { return (a != a || b != b) ? kNaN : (a > b ? a : b); }
inline float MinF(float a, float b) { return (a != a || b != b) ? kNaN : (a < b ? a : b); }

// Math.pow differs from C's pow where the exponent is NaN (pow(1, NaN) = 1 in C) and for a base of
// +-1 with an infinite exponent (1 in C): both are NaN in JavaScript.
inline float PowF(float a, float b) {
  if (b != b || (std::isinf(b) && std::fabs(a) == 1.f)) return kNaN;
  return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
}

// int32 +, -, * wrap modulo 2^32 like a store into an Int32Array (computed without signed overflow).
inline int32_t AddI(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
inline int32_t SubI(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }
// JS multiplies in double, so a product beyond 2^53 is rounded before the wrap: do the same.
inline int32_t MulI(int32_t a, int32_t b) {
  const double p = static_cast<double>(static_cast<int64_t>(a) * static_cast<int64_t>(b));
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(p)));
}

// FloorDiv's output is int32 for any input (Math.floor(a / b) stored into an Int32Array): x / 0
// gives +-Infinity or NaN, which become 0.
template <typename T>
inline int32_t FloorDivI(T a, T b) {
  return ToInt32(std::floor(static_cast<double>(a) / static_cast<double>(b)));
}

UNET_BINARY(add_f32, float, float, a + b);
UNET_BINARY(sub_f32, float, float, a - b);
UNET_BINARY(mul_f32, float, float, a * b);
UNET_BINARY(div_f32, float, float, a / b);
UNET_BINARY(max_f32, float, float, MaxF(a, b));
UNET_BINARY(min_f32, float, float, MinF(a, b));
UNET_BINARY(sqdiff_f32, float, float, static_cast<float>((static_cast<double>(a) - b) * (static_cast<double>(a) - b)));
UNET_BINARY(pow_f32, float, float, PowF(a, b));
UNET_BINARY(floordiv_f32, float, int32_t, FloorDivI(a, b));
// Prelu: a is x, b is alpha.
UNET_BINARY(prelu_f32, float, float, a < 0.f ? b * a : a);

UNET_BINARY(add_i32, int32_t, int32_t, AddI(a, b));
UNET_BINARY(sub_i32, int32_t, int32_t, SubI(a, b));
UNET_BINARY(mul_i32, int32_t, int32_t, MulI(a, b));
UNET_BINARY(max_i32, int32_t, int32_t, a > b ? a : b);
UNET_BINARY(min_i32, int32_t, int32_t, a < b ? a : b);
UNET_BINARY(floordiv_i32, int32_t, int32_t, FloorDivI(a, b));

}  // namespace
}  // namespace math
}  // namespace unet
