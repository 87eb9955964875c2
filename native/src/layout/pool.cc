// 2-D max and average pooling over NHWC float32 tensors, and their gradients, with TF.js's CPU
// semantics (tfjs-backend-cpu utils/pool_utils.js, kernels/MaxPoolGrad.js, kernels/AvgPoolGrad.js):
//  - windows are clipped to the input (padding never takes part); max keeps the first maximum in
//    row-major window order (a strict >, from -inf, so NaN never wins); the average divides by the
//    number of in-bounds pixels;
//  - MaxPoolGrad sends each dy to that first maximum, recomputed from x as the CPU kernel does;
//  - AvgPoolGrad spreads dy * 1/(fH*fW) over the in-bounds pixels of the window (TF.js divides by the
//    full window size here, unlike the forward pass; we follow it).
// Every loop runs over channels innermost (contiguous in NHWC), so it vectorises.
// geometry (from backend_util.computePool2DInfo, dilations 1):
//   [batch, inH, inW, C, outH, outW, filterH, filterW, strideH, strideW, padTop, padLeft]
// Signatures from JS: maxPool(x, y, geometry), avgPool(x, y, geometry),
//   maxPoolGrad(dy, x, dx, geometry), avgPoolGrad(dy, dx, geometry)   (dx arrives zeroed)
#include <limits>

#include "layout/layout.h"

namespace unet {
namespace layout {
namespace {

struct Pool {
  int64_t batch, inH, inW, C, outH, outW, fH, fW, sH, sW, padT, padL;

  // The in-bounds rows [r0, r1) and columns [c0, c1) of output pixel (yR, yC)'s window.
  int64_t RowBegin(int64_t yR) const { return std::max<int64_t>(0, yR * sH - padT); }
  int64_t RowEnd(int64_t yR) const { return std::min(inH, yR * sH - padT + fH); }
  int64_t ColBegin(int64_t yC) const { return std::max<int64_t>(0, yC * sW - padL); }
  int64_t ColEnd(int64_t yC) const { return std::min(inW, yC * sW - padL + fW); }
  int64_t InSize() const { return batch * inH * inW * C; }
  int64_t OutSize() const { return batch * outH * outW * C; }
};

Pool ReadPool(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const std::vector<int64_t> g = Geometry(info, i, 12, what);
  Pool p{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]};
  Check(p.batch >= 0 && p.inH >= 0 && p.inW >= 0 && p.C >= 0 && p.outH >= 0 && p.outW >= 0 && p.fH > 0 && p.fW > 0 &&
            p.sH > 0 && p.sW > 0,
        info.Env(), std::string(what) + ": invalid geometry");
  return p;
}

// Forward pooling, parallel over output rows (b, yR): op(acc, pixel) folds a window into acc[C],
// finish(acc, count) turns it into the output.
template <typename Init, typename Op, typename Finish>
void PoolForward(const Pool& p, const float* x, float* y, Init init, Op op, Finish finish) {
  const int64_t rows = p.batch * p.outH, C = p.C;
#pragma omp parallel for schedule(static) if (p.OutSize() * p.fH * p.fW >= kParallelMin)
  for (int64_t row = 0; row < rows; row++) {
    const int64_t b = row / p.outH, yR = row % p.outH;
    const int64_t r0 = p.RowBegin(yR), r1 = p.RowEnd(yR);
    float* out = y + row * p.outW * C;
    for (int64_t yC = 0; yC < p.outW; yC++) {
      const int64_t c0 = p.ColBegin(yC), c1 = p.ColEnd(yC);
      float* o = out + yC * C;
      for (int64_t d = 0; d < C; d++) o[d] = init;
      for (int64_t r = r0; r < r1; r++) {
        const float* px = x + ((b * p.inH + r) * p.inW + c0) * C;
        for (int64_t c = c0; c < c1; c++, px += C) {
#pragma omp simd
          for (int64_t d = 0; d < C; d++) o[d] = op(o[d], px[d]);
        }
      }
      finish(o, (r1 - r0) * (c1 - c0));
    }
  }
}

Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  const Pool p = ReadPool(info, 2, "maxPool");
  CheckLength(info, 0, p.InSize(), "maxPool");
  CheckLength(info, 1, p.OutSize(), "maxPool");
  PoolForward(
      p, F32(info, 0), F32(info, 1), -std::numeric_limits<float>::infinity(),
      [](float m, float v) { return v > m ? v : m; }, [](float*, int64_t) {});
  return info.Env().Undefined();
}
UNET_KERNEL("maxPool", MaxPool);

Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  const Pool p = ReadPool(info, 2, "avgPool");
  CheckLength(info, 0, p.InSize(), "avgPool");
  CheckLength(info, 1, p.OutSize(), "avgPool");
  const int64_t C = p.C;
  PoolForward(
      p, F32(info, 0), F32(info, 1), 0.f, [](float s, float v) { return s + v; },
      [C](float* o, int64_t count) {
        const float n = static_cast<float>(count);  // 0 (an empty window) gives NaN, as in TF.js
        for (int64_t d = 0; d < C; d++) o[d] /= n;
      });
  return info.Env().Undefined();
}
UNET_KERNEL("avgPool", AvgPool);

// Gradients scatter each output pixel's dy into its window. Windows of output rows closer than
// ceil(fH / sH) overlap, so rows are taken in that many phases (yR mod phases): within a phase no two
// rows touch the same dx row and the rows run in parallel, race-free and deterministic. The common
// 2x2 / stride 2 pool has one phase. scatter(b, yR, scratch) handles one output row.
template <typename Scatter>
void PoolBackward(const Pool& p, Scatter scatter) {
  const int64_t phases = (p.fH + p.sH - 1) / p.sH;
  const bool parallel = p.OutSize() * p.fH * p.fW >= kParallelMin;
#pragma omp parallel if (parallel)
  {
    std::vector<float> scratchValue(p.C);
    std::vector<int32_t> scratchIndex(p.C);
    for (int64_t phase = 0; phase < phases; phase++) {
      const int64_t perBatch = phase < p.outH ? (p.outH - phase + phases - 1) / phases : 0;
      // The implicit barrier at the end of each `omp for` keeps phases apart.
#pragma omp for schedule(static)
      for (int64_t u = 0; u < p.batch * perBatch; u++) {
        scatter(u / perBatch, phase + (u % perBatch) * phases, scratchValue.data(), scratchIndex.data());
      }
    }
  }
}

Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  const Pool p = ReadPool(info, 3, "maxPoolGrad");
  CheckLength(info, 0, p.OutSize(), "maxPoolGrad");
  CheckLength(info, 1, p.InSize(), "maxPoolGrad");
  CheckLength(info, 2, p.InSize(), "maxPoolGrad");
  const float* dy = F32(info, 0);
  const float* x = F32(info, 1);
  float* dx = F32(info, 2);
  const int64_t C = p.C;
  PoolBackward(p, [&](int64_t b, int64_t yR, float* best, int32_t* at) {
    const int64_t r0 = p.RowBegin(yR), r1 = p.RowEnd(yR);
    for (int64_t yC = 0; yC < p.outW; yC++) {
      const int64_t c0 = p.ColBegin(yC), c1 = p.ColEnd(yC);
      // Pass 1: per channel, the window position (row-major count) of the first maximum; -1 when
      // nothing beats -inf (then, as in TF.js, dy goes nowhere).
      for (int64_t d = 0; d < C; d++) {
        best[d] = -std::numeric_limits<float>::infinity();
        at[d] = -1;
      }
      int32_t pos = 0;
      for (int64_t r = r0; r < r1; r++) {
        const float* px = x + ((b * p.inH + r) * p.inW + c0) * C;
        for (int64_t c = c0; c < c1; c++, px += C, pos++) {
#pragma omp simd
          for (int64_t d = 0; d < C; d++) {
            const bool greater = px[d] > best[d];
            best[d] = greater ? px[d] : best[d];
            at[d] = greater ? pos : at[d];
          }
        }
      }
      // Pass 2: walk the window again and add dy where the position matches (contiguous, branch-free).
      const float* g = dy + ((b * p.outH + yR) * p.outW + yC) * C;
      pos = 0;
      for (int64_t r = r0; r < r1; r++) {
        float* q = dx + ((b * p.inH + r) * p.inW + c0) * C;
        for (int64_t c = c0; c < c1; c++, q += C, pos++) {
#pragma omp simd
          for (int64_t d = 0; d < C; d++) q[d] += at[d] == pos ? g[d] : 0.f;
        }
      }
    }
  });
  return info.Env().Undefined();
}
UNET_KERNEL("maxPoolGrad", MaxPoolGrad);

Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  const Pool p = ReadPool(info, 2, "avgPoolGrad");
  CheckLength(info, 0, p.OutSize(), "avgPoolGrad");
  CheckLength(info, 1, p.InSize(), "avgPoolGrad");
  const float* dy = F32(info, 0);
  float* dx = F32(info, 1);
  const int64_t C = p.C;
  const float scale = static_cast<float>(1.0 / static_cast<double>(p.fH * p.fW));
  PoolBackward(p, [&](int64_t b, int64_t yR, float* share, int32_t*) {
    const int64_t r0 = p.RowBegin(yR), r1 = p.RowEnd(yR);
    for (int64_t yC = 0; yC < p.outW; yC++) {
      const int64_t c0 = p.ColBegin(yC), c1 = p.ColEnd(yC);
      const float* g = dy + ((b * p.outH + yR) * p.outW + yC) * C;
      for (int64_t d = 0; d < C; d++) share[d] = g[d] * scale;
      for (int64_t r = r0; r < r1; r++) {
        float* q = dx + ((b * p.inH + r) * p.inW + c0) * C;
        for (int64_t c = c0; c < c1; c++, q += C) {
#pragma omp simd
          for (int64_t d = 0; d < C; d++) q[d] += share[d];
        }
      }
    }
  });
  return info.Env().Undefined();
}
UNET_KERNEL("avgPoolGrad", AvgPoolGrad);

}  // namespace
}  // namespace layout
}  // namespace unet
