// Fused pointwise classifier + sparse softmax cross-entropy: the loss of logits = h W + b (a U-Net's final
// 1x1 convolution) and its gradients with respect to h, W and b, in one pass over h that never writes the
// logits or their gradient to memory (the idea of fused linear cross-entropy kernels for large vocabularies,
// here for many pixels and few classes). Per pixel row r of h [rows, C]:
//   z_r    = h_r W + b                                          (K logits)
//   loss   = sum_r w[y_r] * (logsumexp(z_r) - z_r[y_r]) / sum_r w[y_r]   (w = 1 without class weights)
//   dz_r,k = w[y_r] * (softmax(z_r)_k - [k == y_r]) / sum_r w[y_r]
//   dh_r = dz_r W^T,  dW = sum_r h_r^T dz_r,  db = sum_r dz_r
// With reluFeatures (h is a ReLU's output), dh is also multiplied by [h > 0], which makes it the gradient at
// the ReLU's input, and dhSum = sum_r dh_r is that layer's bias gradient: the ReLU + bias backward of the
// layer before comes free (see src/engine/ops/linear_softmax_cross_entropy.ts).
// Signature from JS: linearSoftmaxXent(h: Float32Array, W: Float32Array [C*K], b: Float32Array | null,
//   labels: Int32Array, weights: Float32Array | null, loss: Float32Array(1), dh, dW, db, C, K,
//   dhSum: Float32Array(C) | null (given: reluFeatures)).
// A label outside [0, K) throws a RangeError that names it and its position. The sums over rows are
// made per thread and added in thread order, so results are the same from run to run.
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "train/softmax_tile.h"

namespace unet {
namespace {

// Rows per tile: one vector of 16 floats (GCC's vector extension: one AVX-512 register, or two AVX2 ones);
// every step below runs across the rows of a tile.
constexpr int64_t kTile = kTileRows;
typedef float v16 __attribute__((vector_size(kTile * sizeof(float))));

// 16 x 16 transpose of vectors in place: r[i][e] -> r[e][i], four stages, each swapping bit b of the row
// index with bit b of the lane index (two-source shuffles; vpermt2ps on AVX-512).
template <int B>
inline void TransposeStage(v16* r) {
  for (int i = 0; i < 16; i++) {
    if (i & B) continue;
    const v16 a = r[i], b = r[i + B];
    if constexpr (B == 1) {
      r[i] = __builtin_shufflevector(a, b, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
      r[i + B] = __builtin_shufflevector(a, b, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    } else if constexpr (B == 2) {
      r[i] = __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
      r[i + B] = __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    } else if constexpr (B == 4) {
      r[i] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
      r[i + B] = __builtin_shufflevector(a, b, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    } else {
      r[i] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
      r[i + B] = __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    }
  }
}
inline void Transpose16(v16* r) {
  TransposeStage<1>(r);
  TransposeStage<2>(r);
  TransposeStage<4>(r);
  TransposeStage<8>(r);
}

Napi::Value linearSoftmaxXent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const float* h = F32(info, 0);
  const float* W = F32(info, 1);
  const bool hasBias = !info[2].IsNull() && !info[2].IsUndefined();
  const float* bias = hasBias ? F32(info, 2) : nullptr;
  const int32_t* labels = I32(info, 3);
  const bool weighted = !info[4].IsNull() && !info[4].IsUndefined();
  const float* w = weighted ? F32(info, 4) : nullptr;
  float* loss = F32(info, 5);
  float* dh = F32(info, 6);
  float* dW = F32(info, 7);
  float* db = F32(info, 8);
  const int64_t C = Int(info, 9);
  const int64_t K = Int(info, 10);
  const bool relu = !info[11].IsNull() && !info[11].IsUndefined();
  float* dhSum = relu ? F32(info, 11) : nullptr;
  const int64_t rows = static_cast<int64_t>(Length(info, 3));
  Check(C > 0 && K > 0 && static_cast<int64_t>(Length(info, 0)) == rows * C, env, "linearSoftmaxXent: features must be [rows, C] for rows labels");
  Check(static_cast<int64_t>(Length(info, 1)) == C * K && (!hasBias || static_cast<int64_t>(Length(info, 2)) == K), env,
        "linearSoftmaxXent: the kernel must be [C, K] and the bias [K]");
  Check(!weighted || static_cast<int64_t>(Length(info, 4)) == K, env, "linearSoftmaxXent: classWeights must have K values");
  Check(Length(info, 5) == 1 && static_cast<int64_t>(Length(info, 6)) == rows * C && static_cast<int64_t>(Length(info, 7)) == C * K &&
            static_cast<int64_t>(Length(info, 8)) == K && (!relu || static_cast<int64_t>(Length(info, 11)) == C),
        env, "linearSoftmaxXent: bad output sizes");
  const bool parallel = rows * (C + K) >= 32768;

  const double total = CheckedWeightTotal(env, labels, rows, K, w, parallel);
  const float scale = static_cast<float>(1.0 / total);

  // Pass 2, tiles of kTile rows. The kernel and bias are padded with zeros to multiples of 8 classes and 8
  // features (Kp, Cp), so that the sums below run 8 at a time in registers with no remainder loops; padded
  // logits are 0 + 0 and padded features 0, so they change nothing that is kept.
  const int64_t Cp = (C + 7) / 8 * 8, Kp = (K + 7) / 8 * 8;
  std::vector<float> Wp(static_cast<size_t>(Cp * Kp), 0.f), bp(static_cast<size_t>(Kp), 0.f);
  for (int64_t c = 0; c < C; c++)
    for (int64_t k = 0; k < K; k++) Wp[c * Kp + k] = W[c * K + k];
  for (int64_t k = 0; k < K && hasBias; k++) bp[k] = bias[k];
  const float* wp = Wp.data();
  const float* b8 = bp.data();

  // Each thread keeps its sums of dW and db as kTile-wide vectors (added across lanes at the end) and its
  // share of the loss. The dW sums take a group of kGroup tiles at a time (their features and logit
  // gradients kept side by side), so each sum is loaded and stored once per group, not once per tile.
  constexpr int64_t kGroup = 8;
  const int maxThreads = parallel ? omp_get_max_threads() : 1;
  const int64_t tiles = (rows + kTile - 1) / kTile;
  const int64_t sums = C * K + K + C;  // dW, db, dhSum
  std::vector<float> partialW(static_cast<size_t>(maxThreads) * sums, 0.f);
  std::vector<double> partialLoss(static_cast<size_t>(maxThreads), 0.0);
  int usedThreads = 1;
#pragma omp parallel if (parallel)
  {
    const int thread = omp_get_thread_num();
#pragma omp single
    usedThreads = omp_get_num_threads();
    std::vector<v16> scratch(static_cast<size_t>(kGroup * (Cp + Kp) + Cp + Cp * Kp + Kp + Cp), v16{});
    v16* hG = scratch.data();       // [kGroup][Cp]: the group's features, transposed (row j in lane j)
    v16* zG = hG + kGroup * Cp;     // [kGroup][Kp]: logits, then their gradient
    v16* dhT = zG + kGroup * Kp;    // [Cp]: the tile's feature gradient, transposed
    v16* accW = dhT + Cp;           // [Cp * Kp]
    v16* accB = accW + Cp * Kp;     // [Kp]
    v16* accH = accB + Kp;          // [Cp]: sums of the (masked) feature gradient
    int64_t inGroup = 0;
    // dW += sum over the group's rows of h^T dz; db += sum of dz. Blocks of 2 features x 8 classes: 16 sums
    // in registers, 10 loads for 16 FMAs.
    auto flush = [&]() {
      for (int64_t c = 0; c < Cp; c += 2) {
        for (int64_t kb = 0; kb < Kp; kb += 8) {
          v16 a0{}, a1{}, a2{}, a3{}, a4{}, a5{}, a6{}, a7{};
          v16 b0{}, b1{}, b2{}, b3{}, b4{}, b5{}, b6{}, b7{};
          for (int64_t g = 0; g < inGroup; g++) {
            const v16 h0 = hG[g * Cp + c], h1 = hG[g * Cp + c + 1];
            const v16* zr = zG + g * Kp + kb;
            const v16 z0 = zr[0], z1 = zr[1], z2 = zr[2], z3 = zr[3], z4 = zr[4], z5 = zr[5], z6 = zr[6], z7 = zr[7];
            a0 += h0 * z0;
            a1 += h0 * z1;
            a2 += h0 * z2;
            a3 += h0 * z3;
            a4 += h0 * z4;
            a5 += h0 * z5;
            a6 += h0 * z6;
            a7 += h0 * z7;
            b0 += h1 * z0;
            b1 += h1 * z1;
            b2 += h1 * z2;
            b3 += h1 * z3;
            b4 += h1 * z4;
            b5 += h1 * z5;
            b6 += h1 * z6;
            b7 += h1 * z7;
          }
          v16* acc = accW + c * Kp + kb;
          acc[0] += a0;
          acc[1] += a1;
          acc[2] += a2;
          acc[3] += a3;
          acc[4] += a4;
          acc[5] += a5;
          acc[6] += a6;
          acc[7] += a7;
          acc += Kp;
          acc[0] += b0;
          acc[1] += b1;
          acc[2] += b2;
          acc[3] += b3;
          acc[4] += b4;
          acc[5] += b5;
          acc[6] += b6;
          acc[7] += b7;
        }
      }
      for (int64_t k = 0; k < Kp; k++)
        for (int64_t g = 0; g < inGroup; g++) accB[k] += zG[g * Kp + k];
      inGroup = 0;
    };
    double lossSum = 0.0;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tiles; t++) {
      const int64_t r0 = t * kTile;
      const int64_t n = rows - r0 < kTile ? rows - r0 : kTile;
      v16* hT = hG + inGroup * Cp;
      v16* z = zG + inGroup * Kp;
      float* hf = reinterpret_cast<float*>(hT);
      float* zf = reinterpret_cast<float*>(z);
      // Rows past the end of the last tile are zeros with weight 0: they add nothing to any sum.
      float wy[kTile], g[kTile];
      int32_t y[kTile];
      for (int64_t j = 0; j < kTile; j++) {
        const bool real = j < n;
        y[j] = real ? labels[r0 + j] : 0;
        wy[j] = real ? (weighted ? w[y[j]] : 1.f) : 0.f;
        g[j] = wy[j] * scale;
      }
      // Transposed in: 16 x 16 blocks by shuffles when the tile is whole and C a multiple of 16, else one
      // float at a time (zeros for the padding).
      const bool blocks = n == kTile && C % kTile == 0;
      if (blocks) {
        for (int64_t cb = 0; cb < C; cb += kTile) {
          v16* r = hT + cb;
          for (int64_t j = 0; j < kTile; j++) std::memcpy(&r[j], h + (r0 + j) * C + cb, sizeof(v16));
          Transpose16(r);
        }
        for (int64_t c = C; c < Cp; c++) hT[c] = v16{};
      } else {
        for (int64_t c = 0; c < Cp; c++) hT[c] = v16{};
        for (int64_t j = 0; j < n; j++)
          for (int64_t c = 0; c < C; c++) hf[c * kTile + j] = h[(r0 + j) * C + c];
      }

      // z[k] = b[k] + sum_c W[c][k] h[c], eight classes at a time.
      for (int64_t kb = 0; kb < Kp; kb += 8) {
        v16 a0 = v16{} + b8[kb], a1 = v16{} + b8[kb + 1], a2 = v16{} + b8[kb + 2], a3 = v16{} + b8[kb + 3];
        v16 a4 = v16{} + b8[kb + 4], a5 = v16{} + b8[kb + 5], a6 = v16{} + b8[kb + 6], a7 = v16{} + b8[kb + 7];
        for (int64_t c = 0; c < Cp; c++) {
          const v16 hc = hT[c];
          const float* wr = wp + c * Kp + kb;
          a0 += wr[0] * hc;
          a1 += wr[1] * hc;
          a2 += wr[2] * hc;
          a3 += wr[3] * hc;
          a4 += wr[4] * hc;
          a5 += wr[5] * hc;
          a6 += wr[6] * hc;
          a7 += wr[7] * hc;
        }
        z[kb] = a0;
        z[kb + 1] = a1;
        z[kb + 2] = a2;
        z[kb + 3] = a3;
        z[kb + 4] = a4;
        z[kb + 5] = a5;
        z[kb + 6] = a6;
        z[kb + 7] = a7;
      }

      // Softmax cross-entropy across the tile's rows (real classes only; padded logits stay 0).
      lossSum += SoftmaxXentTile(zf, K, y, wy, g);

      // dh[c] = sum_k W[c][k] dz[k], eight features at a time, then transposed out.
      for (int64_t cb = 0; cb < Cp; cb += 8) {
        v16 d0{}, d1{}, d2{}, d3{}, d4{}, d5{}, d6{}, d7{};
        const float* w0 = wp + cb * Kp;
        for (int64_t k = 0; k < K; k++) {
          const v16 zk = z[k];
          d0 += w0[k] * zk;
          d1 += w0[Kp + k] * zk;
          d2 += w0[2 * Kp + k] * zk;
          d3 += w0[3 * Kp + k] * zk;
          d4 += w0[4 * Kp + k] * zk;
          d5 += w0[5 * Kp + k] * zk;
          d6 += w0[6 * Kp + k] * zk;
          d7 += w0[7 * Kp + k] * zk;
        }
        dhT[cb] = d0;
        dhT[cb + 1] = d1;
        dhT[cb + 2] = d2;
        dhT[cb + 3] = d3;
        dhT[cb + 4] = d4;
        dhT[cb + 5] = d5;
        dhT[cb + 6] = d6;
        dhT[cb + 7] = d7;
      }
      if (relu) {
        for (int64_t c = 0; c < Cp; c++) {
          dhT[c] = hT[c] > 0.f ? dhT[c] : v16{};
          accH[c] += dhT[c];
        }
      }
      if (blocks) {
        for (int64_t cb = 0; cb < C; cb += kTile) {
          v16* r = dhT + cb;
          Transpose16(r);
          for (int64_t j = 0; j < kTile; j++) std::memcpy(dh + (r0 + j) * C + cb, &r[j], sizeof(v16));
        }
      } else {
        const float* df = reinterpret_cast<const float*>(dhT);
        for (int64_t j = 0; j < n; j++)
          for (int64_t c = 0; c < C; c++) dh[(r0 + j) * C + c] = df[c * kTile + j];
      }
      if (++inGroup == kGroup) flush();
    }
    if (inGroup > 0) flush();
    float* mine = partialW.data() + static_cast<size_t>(thread) * sums;
    for (int64_t i = 0; i < sums; i++) {
      const v16 a = i < C * K ? accW[(i / K) * Kp + i % K] : i < C * K + K ? accB[i - C * K] : accH[i - C * K - K];
      float sum = 0.f;
      for (int64_t j = 0; j < kTile; j++) sum += a[j];
      mine[i] = sum;
    }
    partialLoss[thread] = lossSum;
  }

  // Thread totals in thread order: the same sums every run for the same thread count.
  double lossTotal = 0.0;
  for (int th = 0; th < usedThreads; th++) lossTotal += partialLoss[th];
  for (int64_t i = 0; i < sums; i++) {
    float sum = 0.f;
    for (int th = 0; th < usedThreads; th++) sum += partialW[static_cast<size_t>(th) * sums + i];
    if (i < C * K)
      dW[i] = sum;
    else if (i < C * K + K)
      db[i - C * K] = sum;
    else if (relu)
      dhSum[i - C * K - K] = sum;
  }
  loss[0] = static_cast<float>(lossTotal / total);
  return env.Undefined();
}

UNET_KERNEL("linearSoftmaxXent", linearSoftmaxXent);

}  // namespace
}  // namespace unet
