// Element-wise unary kernels: y = f(x) over a flat float32 buffer.
// Signature from JS: name(x: Float32Array, y: Float32Array[, alpha]).
#include <cmath>

#include "common.h"

namespace unet {
namespace {

template <typename F>
Napi::Value Unary(const Napi::CallbackInfo& info, F f) {
  const float* x = F32(info, 0);
  float* y = F32(info, 1);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  Check(static_cast<int64_t>(Length(info, 1)) == n, info.Env(), "unary: x and y differ in length");
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
  return info.Env().Undefined();
}

#define UNARY(js, expr)                                          \
  Napi::Value js(const Napi::CallbackInfo& info) {               \
    return Unary(info, [](float v) -> float { return (expr); }); \
  }                                                              \
  UNET_KERNEL(#js, js)

UNARY(relu, v < 0.f ? 0.f : v);
UNARY(relu6, v < 0.f ? 0.f : (v > 6.f ? 6.f : v));
UNARY(step, std::isnan(v) ? v : (v > 0.f ? 1.f : 0.f));
UNARY(exp, std::exp(v));
UNARY(log, std::log(v));
UNARY(sqrt, std::sqrt(v));
UNARY(rsqrt, 1.f / std::sqrt(v));
UNARY(square, v * v);
UNARY(neg, -v);
UNARY(abs, std::fabs(v));
UNARY(floor, std::floor(v));
UNARY(ceil, std::ceil(v));
UNARY(round, std::nearbyint(v));
UNARY(sign, v > 0.f ? 1.f : (v < 0.f ? -1.f : 0.f));
UNARY(reciprocal, 1.f / v);
UNARY(sigmoid, 1.f / (1.f + std::exp(-v)));
UNARY(tanh, std::tanh(v));
UNARY(softplus, v > 20.f ? v : std::log1p(std::exp(v)));
UNARY(log1p, std::log1p(v));
UNARY(expm1, std::expm1(v));

}  // namespace
}  // namespace unet
