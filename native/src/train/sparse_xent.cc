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
#include <vector>

#include "common.h"
#include "train/softmax_tile.h"

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

  const double total = CheckedWeightTotal(env, labels, rows, K, w, parallel);

  // Pass 2, over the logits: each row's loss and gradient. Rows are short (K is the class count, often
  // 2-30), so a row at a time leaves the vector units idle; instead blocks of kBlock rows are transposed
  // into a [K][kBlock] tile held in L1 and every step (max, exp, sum, log, scale) runs across the rows.
  constexpr int64_t kBlock = kTileRows;
  const double scale = 1.0 / total;
  const float fscale = static_cast<float>(scale);
  const int64_t blocks = rows / kBlock;
  double sum = 0.0;
#pragma omp parallel reduction(+ : sum) if (parallel)
  {
    std::vector<float> tile(static_cast<size_t>(K * kBlock));
    float* t = tile.data();
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
      const int64_t r0 = b * kBlock;
      const float* in = x + r0 * K;
      float* dxRow = dx + r0 * K;
      for (int64_t j = 0; j < kBlock; j++)
        for (int64_t k = 0; k < K; k++) t[k * kBlock + j] = in[j * K + k];
      float wy[kBlock], g[kBlock];
      int32_t y[kBlock];
      for (int64_t j = 0; j < kBlock; j++) {
        y[j] = labels[r0 + j];
        wy[j] = weighted ? w[y[j]] : 1.f;
        g[j] = wy[j] * fscale;
      }
      sum += SoftmaxXentTile(t, K, y, wy, g);
      for (int64_t j = 0; j < kBlock; j++)
        for (int64_t k = 0; k < K; k++) dxRow[j * K + k] = t[k * kBlock + j];
    }
  }
  // The rows after the last whole block, one at a time.
  for (int64_t r = blocks * kBlock; r < rows; r++) {
    const float* in = x + r * K;
    float* g = dx + r * K;
    const int32_t y = labels[r];
    float m = in[0];
    for (int64_t k = 1; k < K; k++) m = in[k] > m ? in[k] : m;
    float s = 0.f;
    for (int64_t k = 0; k < K; k++) s += g[k] = FastExp(in[k] - m);
    const float wy = weighted ? w[y] : 1.f;
    sum += wy * (FastLog(s) + m - in[y]);
    const float f = wy * fscale / s;
    for (int64_t k = 0; k < K; k++) g[k] *= f;
    g[y] -= wy * fscale;
  }
  loss[0] = static_cast<float>(sum * scale);
  return env.Undefined();
}

UNET_KERNEL("sparseSoftmaxXent", sparseSoftmaxXent);

}  // namespace
}  // namespace unet
