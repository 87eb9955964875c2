// The backward pass of y = relu(conv(x, w) + bias) up to the convolution, in one sweep over dy:
//   dz = dy * (y > 0)                  [rows, C]  (rows = N*H*W, NHWC)
//   dbias[c] = sum over rows of dz[:, c]
// TF.js would run Step, Multiply and Sum (three passes and two temporaries) for the same result.
// From JS: reluBiasGrad(dy, y, dz, dbias, channels).
#include <vector>

#include "common.h"

namespace unet {
namespace {

constexpr int64_t kBlockRows = 64;

Napi::Value ReluBiasGrad(const Napi::CallbackInfo& info) {
  const float* dy = F32(info, 0);
  const float* y = F32(info, 1);
  float* dz = F32(info, 2);
  float* dbias = F32(info, 3);
  const int64_t c = Int(info, 4);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  Check(c > 0 && n % c == 0 && static_cast<int64_t>(Length(info, 1)) == n && static_cast<int64_t>(Length(info, 2)) == n &&
            static_cast<int64_t>(Length(info, 3)) == c,
        info.Env(), "reluBiasGrad: dy, y and dz must hold rows x channels values and dbias channels values");
  const int64_t rows = n / c;
  // Each thread sums its own contiguous rows in double; the partial sums are added in thread order, so the
  // result depends only on the thread count, never on timing.
  const int threads = rows * c > 32768 ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * c, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int64_t begin = rows * t / threads, end = rows * (t + 1) / threads;
    double* acc = partial.data() + static_cast<size_t>(t) * c;
    // float sums over blocks of rows (a float/double mix in the inner loop would stop it vectorising), added
    // into double per block so that long sums stay accurate.
    std::vector<float> block(c);
    float* b = block.data();
    for (int64_t r0 = begin; r0 < end; r0 += kBlockRows) {
      const int64_t r1 = r0 + kBlockRows < end ? r0 + kBlockRows : end;
      for (int64_t k = 0; k < c; k++) b[k] = 0.f;
      for (int64_t r = r0; r < r1; r++) {
        const float* __restrict dyr = dy + r * c;
        const float* __restrict yr = y + r * c;
        float* __restrict dzr = dz + r * c;
#pragma omp simd
        for (int64_t k = 0; k < c; k++) {
          const float g = yr[k] > 0.f ? dyr[k] : 0.f;
          dzr[k] = g;
          b[k] += g;
        }
      }
      for (int64_t k = 0; k < c; k++) acc[k] += b[k];
    }
  }
  for (int64_t k = 0; k < c; k++) {
    double s = 0;
    for (int t = 0; t < threads; t++) s += partial[static_cast<size_t>(t) * c + k];
    dbias[k] = static_cast<float>(s);
  }
  return info.Env().Undefined();
}
UNET_KERNEL("reluBiasGrad", ReluBiasGrad);

}  // namespace
}  // namespace unet
