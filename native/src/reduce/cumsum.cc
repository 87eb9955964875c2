// Cumsum along one axis, with x viewed as [outer, n, inner] (no transpose); exclusive and reverse
// as in tf.cumsum. Running sums are kept in double, one per inner position, so the inner loop
// is contiguous and vectorises.
// Signature from JS: cumsum(x: Float32Array, y: Float32Array, outer, n, inner, exclusive, reverse).
#include "plan.h"

namespace unet {
namespace {

Napi::Value cumsum(const Napi::CallbackInfo& info) {
  const float* x = F32(info, 0);
  float* y = F32(info, 1);
  const int64_t outer = Int(info, 2), n = Int(info, 3), inner = Int(info, 4);
  const bool exclusive = Bool(info, 5), reverse = Bool(info, 6);
  const int64_t total = outer * n * inner;
  Check(static_cast<int64_t>(Length(info, 0)) == total && static_cast<int64_t>(Length(info, 1)) == total, info.Env(),
        "cumsum: x and y must match [outer, n, inner]");
#pragma omp parallel for schedule(static) if (total >= kParallelThreshold)
  for (int64_t o = 0; o < outer; o++) {
    std::vector<double> run(inner, 0.0);
    for (int64_t s = 0; s < n; s++) {
      const int64_t j = reverse ? n - 1 - s : s;
      const float* in = x + (o * n + j) * inner;
      float* out = y + (o * n + j) * inner;
      if (exclusive) {
        for (int64_t i = 0; i < inner; i++) out[i] = static_cast<float>(run[i]), run[i] += in[i];
      } else {
        for (int64_t i = 0; i < inner; i++) run[i] += in[i], out[i] = static_cast<float>(run[i]);
      }
    }
  }
  return info.Env().Undefined();
}

UNET_KERNEL("cumsum", cumsum);

}  // namespace
}  // namespace unet
