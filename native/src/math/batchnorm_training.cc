// Batch normalisation in training mode over x[rows, C] (rows = N*H*W, NHWC), forward and backward, one
// kernel each instead of TF.js's moments + FusedBatchNorm and their ~25-kernel gradient:
//   batch_norm_train(x, gamma | null, beta | null, eps, y, mean, variance, C, relu?, cap?)
//     mean = sum(x) / rows, variance = sum((x - mean)^2) / rows (biased, as tf.moments),
//     y = beta + (x - mean) * gamma / sqrt(variance + eps), then max(0, y) with relu (a ReLU layer fused in),
//     min(cap, max(0, y)) with a cap too (ReLU6)
//   batch_norm_train_grad(dy, x, mean, variance, gamma | null, dmean | null, dvariance | null, eps, dx, dgamma, dbeta, C,
//                         y | null, cap?)
//     (with y, the output of a fused ReLU: dy is first masked by y > 0, ReLU's gradient, in the same sweeps; with a
//     cap by 0 < y < cap, which differs from tfjs' ReLU6 gradient only where the batch norm gave exactly the cap)
//     with r = 1 / sqrt(variance + eps), g = gamma (1 without), M = rows, S1 = sum(dy), S2 = sum(dy (x - mean)):
//     dbeta = S1, dgamma = S2 r,
//     dx = g r dy - g r^3 S2 / M (x - mean) - g r S1 / M + dmean / M + 2 dvariance / M (x - mean)
//     (dmean and dvariance are the gradients reaching the mean and variance outputs; zero in a layer).
// The sums run per thread over contiguous rows (float over blocks of 64 rows, then double), added in thread
// order: results depend on the thread count only. The forward sums are shifted by each channel's first value,
// so that a large mean does not cost the variance its precision.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "elementwise.h"

namespace unet {
namespace math {
namespace {

constexpr int64_t kBlockRows = 64;

// Per-channel sums of two quantities over rows: body(r, s1, s2) adds row r into float accumulators s1[C],
// s2[C]. Returns the double totals (out1, out2).
template <typename Body>
void ChannelSums(int64_t rows, int64_t C, std::vector<double>& out1, std::vector<double>& out2, Body body) {
  const int threads = rows * C > kParallelMin ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * 2 * C, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int64_t begin = rows * t / threads, end = rows * (t + 1) / threads;
    double* acc1 = partial.data() + static_cast<size_t>(t) * 2 * C;
    double* acc2 = acc1 + C;
    std::vector<float> block(2 * C);
    float* b1 = block.data();
    float* b2 = b1 + C;
    for (int64_t r0 = begin; r0 < end; r0 += kBlockRows) {
      const int64_t r1 = r0 + kBlockRows < end ? r0 + kBlockRows : end;
      for (int64_t k = 0; k < 2 * C; k++) b1[k] = 0.f;
      for (int64_t r = r0; r < r1; r++) body(r, b1, b2);
      for (int64_t k = 0; k < C; k++) {
        acc1[k] += b1[k];
        acc2[k] += b2[k];
      }
    }
  }
  out1.assign(C, 0.0);
  out2.assign(C, 0.0);
  for (int t = 0; t < threads; t++)
    for (int64_t k = 0; k < C; k++) {
      out1[k] += partial[static_cast<size_t>(t) * 2 * C + k];
      out2[k] += partial[static_cast<size_t>(t) * 2 * C + C + k];
    }
}

// y[r, c] = (u[r, c] - shift[c]) * a[c] + d[c] over all rows, in parallel; min(cap, max(0, y)) with relu (a plain
// ReLU's cap is infinity, which leaves max(0, y) as it is).
void NormalizeRows(int64_t rows, int64_t C, const float* u, const float* a, const float* d, const float* shift, bool relu,
                   float cap, float* y) {
#pragma omp parallel for schedule(static) if (rows * C > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict ur = u + r * C;
    float* __restrict yr = y + r * C;
    if (relu) {
#pragma omp simd
      for (int64_t c = 0; c < C; c++) yr[c] = std::min(cap, std::max(0.f, (ur[c] - shift[c]) * a[c] + d[c]));
    } else {
#pragma omp simd
      for (int64_t c = 0; c < C; c++) yr[c] = (ur[c] - shift[c]) * a[c] + d[c];
    }
  }
}

// Whether a fused ReLU passes the gradient at its output y: y > 0, and y < cap when the cap is finite (capped; a
// plain ReLU passes at y = +infinity, as tfjs' does).
inline bool Passes(float y, float cap, bool capped) { return y > 0.f && (!capped || y < cap); }

// dx[r, c] = a[c] * g[r, c] + b[c] * (x[r, c] - mean[c]) + d[c] over all rows, in parallel, where g = dy, or dy
// masked by Passes(y) when y (a fused ReLU's output) is given.
void GradientRows(int64_t rows, int64_t C, const float* dy, const float* y, float cap, const float* x, const float* a,
                  const float* b, const float* d, const float* mean, float* dx) {
  const bool capped = std::isfinite(cap);
#pragma omp parallel for schedule(static) if (rows * C > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict dyr = dy + r * C;
    const float* __restrict xr = x + r * C;
    float* __restrict dxr = dx + r * C;
    if (y) {
      const float* __restrict yr = y + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; c++) dxr[c] = a[c] * (Passes(yr[c], cap, capped) ? dyr[c] : 0.f) + b[c] * (xr[c] - mean[c]) + d[c];
    } else {
#pragma omp simd
      for (int64_t c = 0; c < C; c++) dxr[c] = a[c] * dyr[c] + b[c] * (xr[c] - mean[c]) + d[c];
    }
  }
}

// Argument i: a fused ReLU's cap (ReLU6: 6), or absent / null for none (infinity).
float Cap(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return std::numeric_limits<float>::infinity();
  const double cap = Num(info, i);
  Check(cap > 0, info.Env(), "batch norm: a ReLU cap must be positive");
  return static_cast<float>(cap);
}

// Argument i: null / undefined / absent, or a Float32Array of `length` values (described as `what` in the error).
const float* Optional(const Napi::CallbackInfo& info, size_t i, int64_t length, const char* name, const char* what = "C") {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  Check(static_cast<int64_t>(Length(info, i)) == length, info.Env(), std::string(name) + " must hold " + what + " values");
  return Typed<float>(info, i);
}

Napi::Value batch_norm_train(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t C = Int(info, 7);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  Check(C >= 1 && n % C == 0 && n > 0 && static_cast<int64_t>(Length(info, 4)) == n && static_cast<int64_t>(Length(info, 5)) == C &&
            static_cast<int64_t>(Length(info, 6)) == C,
        env, "batch_norm_train: x and y must hold rows x C values, mean and variance C values");
  const float* x = Typed<float>(info, 0);
  const float* gamma = Optional(info, 1, C, "gamma");
  const float* beta = Optional(info, 2, C, "beta");
  const double eps = Num(info, 3);
  float* y = Typed<float>(info, 4);
  float* mean = Typed<float>(info, 5);
  float* variance = Typed<float>(info, 6);
  const bool relu = info.Length() > 8 && Bool(info, 8);
  const float cap = Cap(info, 9);
  const int64_t rows = n / C;

  std::vector<float> shift(x, x + C);
  const float* k = shift.data();
  std::vector<double> s1, s2;
  ChannelSums(rows, C, s1, s2, [&](int64_t r, float* b1, float* b2) {
    const float* __restrict xr = x + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      const float u = xr[c] - k[c];
      b1[c] += u;
      b2[c] += u * u;
    }
  });
  // y = (x - mean) * scale + beta, written as (x - shift) * scale + (beta - (mean - shift) * scale).
  std::vector<float> scale(C), offset(C), zero(C, 0.f);
  for (int64_t c = 0; c < C; c++) {
    const double d = s1[c] / rows;  // mean - shift
    const double v = std::max(0.0, s2[c] / rows - d * d);
    mean[c] = static_cast<float>(k[c] + d);
    variance[c] = static_cast<float>(v);
    const double sc = (gamma ? gamma[c] : 1.0) / std::sqrt(static_cast<double>(variance[c]) + eps);
    scale[c] = static_cast<float>(sc);
    offset[c] = static_cast<float>((beta ? beta[c] : 0.0) - d * sc);
  }
  NormalizeRows(rows, C, x, scale.data(), offset.data(), k, relu, cap, y);
  return env.Undefined();
}
UNET_KERNEL("batch_norm_train", batch_norm_train);

Napi::Value batch_norm_train_grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t C = Int(info, 11);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  Check(C >= 1 && n % C == 0 && n > 0 && static_cast<int64_t>(Length(info, 1)) == n && static_cast<int64_t>(Length(info, 2)) == C &&
            static_cast<int64_t>(Length(info, 3)) == C && static_cast<int64_t>(Length(info, 8)) == n &&
            static_cast<int64_t>(Length(info, 9)) == C && static_cast<int64_t>(Length(info, 10)) == C,
        env, "batch_norm_train_grad: dy, x and dx must hold rows x C values; mean, variance, dgamma and dbeta C values");
  const float* dy = Typed<float>(info, 0);
  const float* x = Typed<float>(info, 1);
  const float* mean = Typed<float>(info, 2);
  const float* variance = Typed<float>(info, 3);
  const float* gamma = Optional(info, 4, C, "gamma");
  const float* dmean = Optional(info, 5, C, "dmean");
  const float* dvariance = Optional(info, 6, C, "dvariance");
  const double eps = Num(info, 7);
  float* dx = Typed<float>(info, 8);
  float* dgamma = Typed<float>(info, 9);
  float* dbeta = Typed<float>(info, 10);
  const float* y = Optional(info, 12, n, "y", "rows x C");
  const float cap = Cap(info, 13);
  const bool capped = std::isfinite(cap);
  const int64_t rows = n / C;

  std::vector<double> s1, s2;
  ChannelSums(rows, C, s1, s2, [&](int64_t r, float* b1, float* b2) {
    const float* __restrict dyr = dy + r * C;
    const float* __restrict xr = x + r * C;
    if (y) {
      const float* __restrict yr = y + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; c++) {
        const float g = Passes(yr[c], cap, capped) ? dyr[c] : 0.f;
        b1[c] += g;
        b2[c] += g * (xr[c] - mean[c]);
      }
    } else {
#pragma omp simd
      for (int64_t c = 0; c < C; c++) {
        b1[c] += dyr[c];
        b2[c] += dyr[c] * (xr[c] - mean[c]);
      }
    }
  });
  std::vector<float> a(C), b(C), d(C);
  for (int64_t c = 0; c < C; c++) {
    const double rs = 1.0 / std::sqrt(static_cast<double>(variance[c]) + eps);
    const double g = gamma ? gamma[c] : 1.0;
    dbeta[c] = static_cast<float>(s1[c]);
    dgamma[c] = static_cast<float>(s2[c] * rs);
    a[c] = static_cast<float>(g * rs);
    b[c] = static_cast<float>(-g * rs * rs * rs * s2[c] / rows + (dvariance ? 2.0 * dvariance[c] / rows : 0.0));
    d[c] = static_cast<float>(-g * rs * s1[c] / rows + (dmean ? static_cast<double>(dmean[c]) / rows : 0.0));
  }
  GradientRows(rows, C, dy, y, cap, x, a.data(), b.data(), d.data(), mean, dx);
  return env.Undefined();
}
UNET_KERNEL("batch_norm_train_grad", batch_norm_train_grad);

// moving_averages(movingMean, movingVariance, mean, variance, decay, newMean, newVariance), all C values:
// new = m - (m - value) * decay, each operation rounded to float32 as tfjs-layers' three kernels round it (no FMA).
__attribute__((optimize("fp-contract=off"))) void MovingAverage(int64_t n, const float* m, const float* value, float decay, float* out) {
  for (int64_t i = 0; i < n; i++) {
    const float change = (m[i] - value[i]) * decay;
    out[i] = m[i] - change;
  }
}

Napi::Value moving_averages(const Napi::CallbackInfo& info) {
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  for (size_t i : {1, 2, 3, 5, 6})
    Check(static_cast<int64_t>(Length(info, i)) == n, info.Env(), "moving_averages: the statistics must all hold C values");
  const float decay = static_cast<float>(Num(info, 4));
  MovingAverage(n, Typed<float>(info, 0), Typed<float>(info, 2), decay, Typed<float>(info, 5));
  MovingAverage(n, Typed<float>(info, 1), Typed<float>(info, 3), decay, Typed<float>(info, 6));
  return info.Env().Undefined();
}
UNET_KERNEL("moving_averages", moving_averages);

}  // namespace
}  // namespace math
}  // namespace unet
