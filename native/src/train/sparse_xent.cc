// Fused sparse softmax cross-entropy: the mean (optionally class-weighted) loss over the rows of
// [rows, K] logits and its gradient d loss / d logits, in one pass over the logits (like PyTorch's
// fused kernel: no softmax, one-hot or log tensors in between).
//   loss   = sum_r w[y_r] * (logsumexp(x_r) - x_r[y_r]) / sum_r w[y_r]   (w = 1 without weights)
//   dx_r,k = w[y_r] * (softmax(x_r)_k - [k == y_r]) / sum_r w[y_r]
// Signature from JS: sparseSoftmaxXent(logits: Float32Array, labels: Int32Array,
//   weights: Float32Array | null, loss: Float32Array(1), dlogits: Float32Array, K).
// A label outside [0, K) throws a TypeError that names it and its position.
#include <cmath>
#include <string>

#include "common.h"

namespace unet {
namespace {

Napi::Value sparseSoftmaxXent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const float* x = F32(info, 0);
  const int32_t* labels = I32(info, 1);
  const bool weighted = !info[2].IsNull() && !info[2].IsUndefined();
  const float* w = weighted ? F32(info, 2) : nullptr;
  float* loss = F32(info, 3);
  float* dx = F32(info, 4);
  const int64_t K = Int(info, 5);
  const int64_t rows = static_cast<int64_t>(Length(info, 1));
  Check(K > 0 && static_cast<int64_t>(Length(info, 0)) == rows * K, env, "sparseSoftmaxXent: logits must be [rows, K] for rows labels");
  Check(static_cast<int64_t>(Length(info, 4)) == rows * K && Length(info, 3) == 1, env, "sparseSoftmaxXent: bad output sizes");
  Check(!weighted || static_cast<int64_t>(Length(info, 2)) == K, env, "sparseSoftmaxXent: classWeights must have K values");
  const bool parallel = rows * K >= 32768;

  // Pass 1, over the labels only: validate them and total the weights (the gradient's divisor).
  int64_t bad = rows;
  double total = 0.0;
#pragma omp parallel for schedule(static) reduction(min : bad) reduction(+ : total) if (parallel)
  for (int64_t r = 0; r < rows; r++) {
    const int32_t y = labels[r];
    if (y < 0 || y >= K) {
      bad = r < bad ? r : bad;
    } else {
      total += weighted ? w[y] : 1.0;
    }
  }
  if (bad < rows) {
    throw Napi::RangeError::New(env, "sparseSoftmaxCrossEntropy: label " + std::to_string(labels[bad]) + " at position " +
                                         std::to_string(bad) + " is outside [0, " + std::to_string(K) + ")");
  }

  // Pass 2, over the logits: each row's loss and gradient.
  const double scale = 1.0 / total;
  double sum = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (parallel)
  for (int64_t r = 0; r < rows; r++) {
    const float* in = x + r * K;
    float* g = dx + r * K;
    const int32_t y = labels[r];
    float m = in[0];
    for (int64_t k = 1; k < K; k++) m = in[k] > m ? in[k] : m;
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t k = 0; k < K; k++) {
      g[k] = FastExp(in[k] - m);
      s += g[k];
    }
    const double wy = weighted ? w[y] : 1.0;
    sum += wy * (std::log(static_cast<double>(s)) + m - in[y]);
    const float f = static_cast<float>(wy * scale / s);
#pragma omp simd
    for (int64_t k = 0; k < K; k++) g[k] *= f;
    g[y] -= static_cast<float>(wy * scale);
  }
  loss[0] = static_cast<float>(sum * scale);
  return env.Undefined();
}

UNET_KERNEL("sparseSoftmaxXent", sparseSoftmaxXent);

}  // namespace
}  // namespace unet
