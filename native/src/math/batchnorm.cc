// FusedBatchNorm (tf.batchNorm): y = offset + (x - mean) * scale / sqrt(variance + eps).
// Like the CPU kernel, each parameter is read cyclically by its own length (1 or C), which covers
// mean of shape [C] or [1,1,1,C] on x [N,H,W,C] (C channels, the fast case) and parameters of x's
// full shape (C = x.length). Per channel, k = scale / sqrt(variance + eps) is formed once in double;
// each element is then computed in double and rounded once, as the JS kernel does.
// JS: batch_norm(x, mean, variance, offset | null, scale | null, eps, y, C), with C a multiple of
// every parameter's length and x.length a multiple of C.
#include <vector>

#include "elementwise.h"

namespace unet {
namespace math {
namespace {

Napi::Value batch_norm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const float* x = Typed<float>(info, 0);
  const float* mean = Typed<float>(info, 1);
  const float* var = Typed<float>(info, 2);
  const bool hasOffset = !info[3].IsNull() && !info[3].IsUndefined();
  const bool hasScale = !info[4].IsNull() && !info[4].IsUndefined();
  const float* offset = hasOffset ? Typed<float>(info, 3) : nullptr;
  const float* scale = hasScale ? Typed<float>(info, 4) : nullptr;
  const double eps = Num(info, 5);
  float* y = Typed<float>(info, 6);
  const int64_t C = Int(info, 7);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  const int64_t lm = static_cast<int64_t>(Length(info, 1)), lv = static_cast<int64_t>(Length(info, 2));
  const int64_t lo = hasOffset ? static_cast<int64_t>(Length(info, 3)) : 1;
  const int64_t ls = hasScale ? static_cast<int64_t>(Length(info, 4)) : 1;
  Check(C >= 1 && n % C == 0 && C % lm == 0 && C % lv == 0 && C % lo == 0 && C % ls == 0 &&
            static_cast<int64_t>(Length(info, 6)) == n,
        env, "batch_norm: x.length must be a multiple of C, and C of every parameter's length");

  // Per channel c: y = o[c] + (x - m[c]) * k[c].
  std::vector<double> m(C), k(C), o(C);
  for (int64_t c = 0; c < C; c++) {
    m[c] = mean[c % lm];
    k[c] = (hasScale ? static_cast<double>(scale[c % ls]) : 1.0) / std::sqrt(static_cast<double>(var[c % lv]) + eps);
    o[c] = hasOffset ? static_cast<double>(offset[c % lo]) : 0.0;
  }
  const double *pm = m.data(), *pk = k.data(), *po = o.data();
  const int64_t rows = n / C;
  if (rows >= 64 || n <= kParallelMin) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; c++) yr[c] = static_cast<float>(po[c] + (xr[c] - pm[c]) * pk[c]);
    }
  } else {  // few long rows (parameters of x's full shape): split each row instead
    for (int64_t r = 0; r < rows; r++) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
#pragma omp parallel for simd schedule(static)
      for (int64_t c = 0; c < C; c++) yr[c] = static_cast<float>(po[c] + (xr[c] - pm[c]) * pk[c]);
    }
  }
  return env.Undefined();
}
UNET_KERNEL("batch_norm", batch_norm);

}  // namespace
}  // namespace math
}  // namespace unet
