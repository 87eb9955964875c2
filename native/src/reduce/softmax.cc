// Softmax over the last axis: x viewed as [rows, n]; y = exp(x - max) / sum(exp(x - max)).
// Signature from JS: softmax(x: Float32Array, y: Float32Array, n).
// The max propagates NaN like the CPU kernel's Max; the sum accumulates in double.
#include <cmath>

#include "plan.h"

namespace unet {
namespace {

Napi::Value softmax(const Napi::CallbackInfo& info) {
  const float* x = F32(info, 0);
  float* y = F32(info, 1);
  const int64_t n = Int(info, 2);
  const int64_t total = static_cast<int64_t>(Length(info, 0));
  Check(n > 0 && total % n == 0 && static_cast<int64_t>(Length(info, 1)) == total, info.Env(), "softmax: bad shapes");
  const int64_t rows = total / n;
#pragma omp parallel for schedule(static) if (total >= kParallelThreshold)
  for (int64_t r = 0; r < rows; r++) {
    const float* in = x + r * n;
    float* out = y + r * n;
    float m = in[0];
    for (int64_t j = 1; j < n; j++) m = (in[j] > m || in[j] != in[j]) ? in[j] : m;
    double sum = 0.0;
    for (int64_t j = 0; j < n; j++) {
      out[j] = std::exp(in[j] - m);
      sum += out[j];
    }
    const float s = static_cast<float>(sum);
#pragma omp simd
    for (int64_t j = 0; j < n; j++) out[j] /= s;
  }
  return info.Env().Undefined();
}

UNET_KERNEL("softmax", softmax);

}  // namespace
}  // namespace unet
