// Softmax cross-entropy across the 16 rows of a tile, shared by the fused cross-entropy kernels. The
// tile holds logits class-major, z[k * kTileRows + j] for row j, so that every step (max, exp, sum, log,
// gradient) runs across the rows as one vector operation: rows are short (K is a class count).
#pragma once

#include <cstdint>
#include <string>

#include "common.h"

namespace unet {

constexpr int64_t kTileRows = 16;

// Pass 1 of both kernels, over the labels only: checks that each lies in [0, K) and returns the sum of the
// rows' weights (1 each without class weights), the loss's divisor. A bad label throws a RangeError that
// names the first one and its position.
inline double CheckedWeightTotal(Napi::Env env, const int32_t* labels, int64_t rows, int64_t K, const float* w, bool parallel) {
  int64_t bad = rows;
  double total = 0.0;
#pragma omp parallel for schedule(static) reduction(min : bad) reduction(+ : total) if (parallel)
  for (int64_t r = 0; r < rows; r++) {
    const int32_t y = labels[r];
    if (y < 0 || y >= K) {
      bad = r < bad ? r : bad;
    } else {
      total += w ? w[y] : 1.0;
    }
  }
  if (bad < rows) {
    throw Napi::RangeError::New(env, "sparseSoftmaxCrossEntropy: label " + std::to_string(labels[bad]) + " at position " +
                                         std::to_string(bad) + " is outside [0, " + std::to_string(K) + ")");
  }
  return total;
}

// In place: z becomes each row's gradient g_j * (softmax(z_j) - onehot(y_j)), where g_j is the row's weight
// times the loss's 1 / sum of weights. Returns the tile's sum of wy_j * (logsumexp(z_j) - z_j[y_j]).
// Rows with weight 0 (padding) add nothing and get a zero gradient.
inline float SoftmaxXentTile(float* z, int64_t K, const int32_t* y, const float* wy, const float* g) {
  float m[kTileRows], s[kTileRows], zy[kTileRows], f[kTileRows];
  for (int64_t j = 0; j < kTileRows; j++) {
    m[j] = z[j];
    s[j] = 0.f;
    zy[j] = z[y[j] * kTileRows + j];
  }
  for (int64_t k = 1; k < K; k++) {
#pragma omp simd
    for (int64_t j = 0; j < kTileRows; j++) m[j] = z[k * kTileRows + j] > m[j] ? z[k * kTileRows + j] : m[j];
  }
  for (int64_t k = 0; k < K; k++) {
#pragma omp simd
    for (int64_t j = 0; j < kTileRows; j++) {
      const float e = FastExp(z[k * kTileRows + j] - m[j]);
      z[k * kTileRows + j] = e;
      s[j] += e;
    }
  }
  float loss = 0.f;
#pragma omp simd reduction(+ : loss)
  for (int64_t j = 0; j < kTileRows; j++) {
    loss += wy[j] * (FastLog(s[j]) + m[j] - zy[j]);
    f[j] = g[j] / s[j];
  }
  for (int64_t k = 0; k < K; k++) {
    float* zk = z + k * kTileRows;
#pragma omp simd
    for (int64_t j = 0; j < kTileRows; j++) zk[j] = zk[j] * f[j] - (y[j] == k ? g[j] : 0.f);
  }
  return loss;
}

}  // namespace unet
