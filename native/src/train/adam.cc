// Fused Adam / AdamW update of one variable, in one pass (tf.train.adam's math, bias correction
// included; weightDecay > 0 adds AdamW's decoupled decay, var -= lr * weightDecay * var):
//   m' = b1 m + (1 - b1) g          v' = b2 v + (1 - b2) g^2
//   var' = var - lr * wd * var - lr * (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)
// Signature from JS: adamUpdate(var, grad, m, v, newVar, newM, newV, lr, beta1, beta2, eps, step,
//   weightDecay), all Float32Arrays of one length.
#include <cmath>

#include "common.h"

namespace unet {
namespace {

Napi::Value adamUpdate(const Napi::CallbackInfo& info) {
  const float* x = F32(info, 0);
  const float* g = F32(info, 1);
  const float* m = F32(info, 2);
  const float* v = F32(info, 3);
  float* x2 = F32(info, 4);
  float* m2 = F32(info, 5);
  float* v2 = F32(info, 6);
  const double lr = Num(info, 7), beta1 = Num(info, 8), beta2 = Num(info, 9), eps = Num(info, 10);
  const double step = Num(info, 11), weightDecay = Num(info, 12);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  for (size_t i = 1; i <= 6; i++) Check(static_cast<int64_t>(Length(info, i)) == n, info.Env(), "adamUpdate: arrays differ in length");
  Check(step >= 1, info.Env(), "adamUpdate: step counts from 1");

  const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
  const float c1 = static_cast<float>(1.0 - beta1), c2 = static_cast<float>(1.0 - beta2);
  const float bc1 = static_cast<float>(1.0 - std::pow(beta1, step));
  const float bc2 = static_cast<float>(1.0 - std::pow(beta2, step));
  const float e = static_cast<float>(eps), rate = static_cast<float>(lr);
  const float keep = static_cast<float>(1.0 - lr * weightDecay);
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++) {
    const float mi = m[i] * b1 + g[i] * c1;
    const float vi = v[i] * b2 + g[i] * g[i] * c2;
    m2[i] = mi;
    v2[i] = vi;
    x2[i] = x[i] * keep - rate * ((mi / bc1) / (std::sqrt(vi / bc2) + e));
  }
  return info.Env().Undefined();
}

UNET_KERNEL("adamUpdate", adamUpdate);

}  // namespace
}  // namespace unet
