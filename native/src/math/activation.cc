// Element-wise activations with a parameter, and their gradients (TF.js CPU semantics):
//   leaky_relu(x, y, alpha)    y = x < 0 ? alpha * x : x
//   elu(x, y)                  y = x >= 0 ? x : exp(x) - 1
//   elu_grad(dy, yv, dx)       dx = yv >= 0 ? dy : dy * (yv + 1)   (yv: Elu's output)
//   clip(x, y, lo, hi)         y = x > hi ? hi : (x < lo ? lo : x)  (NaN stays NaN)
//   clip_grad(dy, x, dx, lo, hi)  dx = lo <= x <= hi ? dy : 0       (ClipByValue's gradient; NaN x: 0)
//   step_grad(dy, x, dx, hi)   dx = dy * (0 < x <= hi ? 1 : 0)    (Relu6's gradient with hi 6, Relu's with hi
//                              Infinity; NaN x: NaN)
// Where TF.js multiplies a float by a JS number (alpha) it computes in double; so do we.
#include "elementwise.h"

namespace unet {
namespace math {
namespace {

Napi::Value leaky_relu(const Napi::CallbackInfo& info) {
  const double alpha = Num(info, 2);
  return RunMap<float, float>(info, [alpha](float v) -> float { return v < 0.f ? static_cast<float>(alpha * v) : v; });
}
UNET_KERNEL("leaky_relu", leaky_relu);

Napi::Value elu(const Napi::CallbackInfo& info) {
  return RunMap<float, float>(info, [](float v) -> float { return v >= 0.f ? v : std::expm1(v); });
}
UNET_KERNEL("elu", elu);

// The clip bounds are JS numbers; a float compares with hi exactly as with float(hi), because no
// float lies strictly between hi and its nearest float, so the loop can stay in float.
Napi::Value clip(const Napi::CallbackInfo& info) {
  const float lo = static_cast<float>(Num(info, 2)), hi = static_cast<float>(Num(info, 3));
  return RunMap<float, float>(info, [lo, hi](float v) -> float { return v > hi ? hi : (v < lo ? lo : v); });
}
UNET_KERNEL("clip", clip);

Napi::Value elu_grad(const Napi::CallbackInfo& info) {
  const float* dy = Typed<float>(info, 0);
  const float* y = Typed<float>(info, 1);
  float* dx = Typed<float>(info, 2);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  Check(static_cast<int64_t>(Length(info, 1)) == n && static_cast<int64_t>(Length(info, 2)) == n, info.Env(),
        "elu_grad: dy, y and dx differ in length");
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) dx[i] = y[i] >= 0.f ? dy[i] : static_cast<float>(static_cast<double>(dy[i]) * (static_cast<double>(y[i]) + 1.0));
  return info.Env().Undefined();
}
UNET_KERNEL("elu_grad", elu_grad);

// The gradients compute what TF.js's composite ones do: where(x >= lo && x <= hi, dy, 0) for ClipByValue;
// dy * float((x <= 6) * step(x)) for Relu6 and dy * float(step(x)) for Relu, whose mask is NaN where x is (step
// keeps NaN) and a product (inf * 0 = NaN).
Napi::Value BinaryMask(const Napi::CallbackInfo& info, const char* name, bool step, float lo, float hi) {
  const float* dy = Typed<float>(info, 0);
  const float* x = Typed<float>(info, 1);
  float* dx = Typed<float>(info, 2);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  Check(static_cast<int64_t>(Length(info, 1)) == n && static_cast<int64_t>(Length(info, 2)) == n, info.Env(),
        std::string(name) + ": dy, x and dx differ in length");
  if (step) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) {
      const float v = x[i];
      const float mask = v != v ? v : (v > 0.f && v <= hi ? 1.f : 0.f);
      dx[i] = dy[i] * mask;
    }
  } else {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0.f;
  }
  return info.Env().Undefined();
}

Napi::Value clip_grad(const Napi::CallbackInfo& info) {
  return BinaryMask(info, "clip_grad", false, static_cast<float>(Num(info, 3)), static_cast<float>(Num(info, 4)));
}
UNET_KERNEL("clip_grad", clip_grad);

Napi::Value step_grad(const Napi::CallbackInfo& info) {
  return BinaryMask(info, "step_grad", true, 0.f, static_cast<float>(Num(info, 3)));
}
UNET_KERNEL("step_grad", step_grad);

}  // namespace
}  // namespace math
}  // namespace unet
