// Bilinear and nearest-neighbour resizing of NHWC images and their gradients, with TF.js's CPU
// semantics (tfjs-backend-cpu kernels/Resize*.js). Source coordinates are computed in double, as in
// JavaScript, so that floor/round pick the same pixels; only the interpolation runs in float.
// TF.js quirks kept on purpose: the gradients ignore halfPixelCenters (they map output pixel y to
// y * scale), and nearest-neighbour with halfPixelCenters does not subtract the half pixel.
// dims: [batch, inH, inW, C, outH, outW]  (in = the image, out = the resized image / dy)
// Signatures from JS:
//   resizeBilinear(x, y, dims, alignCorners, halfPixelCenters)
//   resizeBilinearGrad(dy, dx, dims, alignCorners)                 (dx arrives zeroed)
//   resizeNearest(x, y, dims, alignCorners, halfPixelCenters)       (float32 or int32)
//   resizeNearestGrad(dy, dx, dims, alignCorners)                  (dx arrives zeroed)
#include <cmath>
#include <cstring>

#include "layout/layout.h"

namespace unet {
namespace layout {
namespace {

struct Resize {
  int64_t batch, inH, inW, C, outH, outW;
  int64_t InSize() const { return batch * inH * inW * C; }
  int64_t OutSize() const { return batch * outH * outW * C; }
};

Resize ReadResize(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const std::vector<int64_t> g = Geometry(info, i, 6, what);
  Resize r{g[0], g[1], g[2], g[3], g[4], g[5]};
  Check(r.batch >= 0 && r.inH > 0 && r.inW > 0 && r.C >= 0 && r.outH >= 0 && r.outW >= 0, info.Env(),
        std::string(what) + ": invalid geometry");
  return r;
}

// in/out size ratio along one axis; alignCorners maps corner pixel centres onto each other.
double Scale(int64_t in, int64_t out, bool alignCorners) {
  const bool align = alignCorners && out > 1;
  return static_cast<double>(align ? in - 1 : in) / static_cast<double>(align ? out - 1 : out);
}

// Where output index i samples along one axis: two neighbours and the weight of the second.
struct Lerp {
  int64_t lo, hi;
  float frac;
};

std::vector<Lerp> BilinearTable(int64_t in, int64_t out, double scale, bool halfPixelCenters) {
  std::vector<Lerp> t(out);
  for (int64_t i = 0; i < out; i++) {
    const double src = halfPixelCenters ? scale * (i + 0.5) - 0.5 : scale * i;
    const double lo = std::max(0.0, std::floor(src));
    t[i] = {std::min(in - 1, static_cast<int64_t>(lo)), std::min(in - 1, static_cast<int64_t>(std::ceil(src))),
            static_cast<float>(src - lo)};
  }
  return t;
}

// The gradient's mapping (TF.js: no half-pixel shift, no clamp of the lower neighbour).
std::vector<Lerp> GradTable(int64_t in, int64_t out, double scale) {
  std::vector<Lerp> t(out);
  for (int64_t i = 0; i < out; i++) {
    const double src = i * scale, lo = std::floor(src);
    t[i] = {std::min(in - 1, static_cast<int64_t>(lo)), std::min(in - 1, static_cast<int64_t>(std::ceil(src))), static_cast<float>(src - lo)};
  }
  return t;
}

std::vector<int64_t> NearestTable(int64_t in, int64_t out, double scale, bool alignCorners, bool halfPixelCenters) {
  std::vector<int64_t> t(out);
  for (int64_t i = 0; i < out; i++) {
    const double src = halfPixelCenters ? scale * (i + 0.5) : scale * i;
    int64_t n = std::min(in - 1, static_cast<int64_t>(alignCorners ? std::floor(src + 0.5) : std::floor(src)));  // JS Math.round
    if (halfPixelCenters) n = std::max<int64_t>(0, n);
    t[i] = n;
  }
  return t;
}

// For each input row, the output rows that feed it and their weights: the gradient then gathers per
// input row (parallel, race-free) instead of scattering from output rows. A clamped upper neighbour
// (lo == hi, frac > 0) gives the row two entries, one per neighbour, as the CPU kernel adds them.
std::vector<std::vector<std::pair<int64_t, float>>> Contributors(const std::vector<Lerp>& rows, int64_t in) {
  std::vector<std::vector<std::pair<int64_t, float>>> by(in);
  for (int64_t y = 0; y < static_cast<int64_t>(rows.size()); y++) {
    const Lerp& l = rows[y];
    by[l.lo].push_back({y, 1.f - l.frac});
    if (l.frac != 0.f) by[l.hi].push_back({y, l.frac});
  }
  return by;
}

Napi::Value ResizeBilinear(const Napi::CallbackInfo& info) {
  const Resize s = ReadResize(info, 2, "resizeBilinear");
  CheckLength(info, 0, s.InSize(), "resizeBilinear");
  CheckLength(info, 1, s.OutSize(), "resizeBilinear");
  const float* x = F32(info, 0);
  float* y = F32(info, 1);
  const bool align = Bool(info, 3), half = Bool(info, 4);
  const std::vector<Lerp> rows = BilinearTable(s.inH, s.outH, Scale(s.inH, s.outH, align), half);
  const std::vector<Lerp> cols = BilinearTable(s.inW, s.outW, Scale(s.inW, s.outW, align), half);
  const int64_t C = s.C;
#pragma omp parallel for schedule(static) if (s.OutSize() >= kParallelMin)
  for (int64_t row = 0; row < s.batch * s.outH; row++) {
    const int64_t b = row / s.outH;
    const Lerp& rl = rows[row % s.outH];
    const float* top = x + (b * s.inH + rl.lo) * s.inW * C;
    const float* bottom = x + (b * s.inH + rl.hi) * s.inW * C;
    const float rf = rl.frac;
    float* out = y + row * s.outW * C;
    for (int64_t c = 0; c < s.outW; c++, out += C) {
      const Lerp& cl = cols[c];
      const float* tl = top + cl.lo * C;
      const float* tr = top + cl.hi * C;
      const float* bl = bottom + cl.lo * C;
      const float* br = bottom + cl.hi * C;
      const float cf = cl.frac;
#pragma omp simd
      for (int64_t d = 0; d < C; d++) {
        const float t = tl[d] + (tr[d] - tl[d]) * cf;
        const float u = bl[d] + (br[d] - bl[d]) * cf;
        out[d] = t + (u - t) * rf;
      }
    }
  }
  return info.Env().Undefined();
}
UNET_KERNEL("resizeBilinear", ResizeBilinear);

Napi::Value ResizeBilinearGrad(const Napi::CallbackInfo& info) {
  const Resize s = ReadResize(info, 2, "resizeBilinearGrad");
  CheckLength(info, 0, s.OutSize(), "resizeBilinearGrad");
  CheckLength(info, 1, s.InSize(), "resizeBilinearGrad");
  const float* dy = F32(info, 0);
  float* dx = F32(info, 1);
  const bool align = Bool(info, 3);
  const auto byRow = Contributors(GradTable(s.inH, s.outH, Scale(s.inH, s.outH, align)), s.inH);
  const std::vector<Lerp> cols = GradTable(s.inW, s.outW, Scale(s.inW, s.outW, align));
  const int64_t C = s.C;
#pragma omp parallel for schedule(static) if (s.OutSize() >= kParallelMin)
  for (int64_t row = 0; row < s.batch * s.inH; row++) {
    const int64_t b = row / s.inH;
    float* out = dx + row * s.inW * C;
    for (const auto& [yRow, wr] : byRow[row % s.inH]) {
      const float* g = dy + (b * s.outH + yRow) * s.outW * C;
      for (int64_t c = 0; c < s.outW; c++, g += C) {
        const Lerp& cl = cols[c];
        const float wl = wr * (1.f - cl.frac), wh = wr * cl.frac;
        float* left = out + cl.lo * C;
        float* right = out + cl.hi * C;
#pragma omp simd
        for (int64_t d = 0; d < C; d++) left[d] += g[d] * wl;
#pragma omp simd
        for (int64_t d = 0; d < C; d++) right[d] += g[d] * wh;
      }
    }
  }
  return info.Env().Undefined();
}
UNET_KERNEL("resizeBilinearGrad", ResizeBilinearGrad);

Napi::Value ResizeNearest(const Napi::CallbackInfo& info) {
  const Resize s = ReadResize(info, 2, "resizeNearest");
  CheckLength(info, 0, s.InSize(), "resizeNearest");
  CheckLength(info, 1, s.OutSize(), "resizeNearest");
  const uint32_t* x = Words(info, 0);
  uint32_t* y = Words(info, 1);
  const bool align = Bool(info, 3), half = Bool(info, 4);
  const std::vector<int64_t> rows = NearestTable(s.inH, s.outH, Scale(s.inH, s.outH, align), align, half);
  const std::vector<int64_t> cols = NearestTable(s.inW, s.outW, Scale(s.inW, s.outW, align), align, half);
  const int64_t C = s.C;
#pragma omp parallel for schedule(static) if (s.OutSize() >= kParallelMin)
  for (int64_t row = 0; row < s.batch * s.outH; row++) {
    const int64_t b = row / s.outH;
    const uint32_t* src = x + (b * s.inH + rows[row % s.outH]) * s.inW * C;
    uint32_t* out = y + row * s.outW * C;
    for (int64_t c = 0; c < s.outW; c++, out += C) std::memcpy(out, src + cols[c] * C, C * sizeof(uint32_t));
  }
  return info.Env().Undefined();
}
UNET_KERNEL("resizeNearest", ResizeNearest);

Napi::Value ResizeNearestGrad(const Napi::CallbackInfo& info) {
  const Resize s = ReadResize(info, 2, "resizeNearestGrad");
  CheckLength(info, 0, s.OutSize(), "resizeNearestGrad");
  CheckLength(info, 1, s.InSize(), "resizeNearestGrad");
  const float* dy = F32(info, 0);
  float* dx = F32(info, 1);
  const bool align = Bool(info, 3);
  // The gradient's mapping: TF.js uses y * scale here whatever halfPixelCenters was.
  const std::vector<int64_t> rowOf = NearestTable(s.inH, s.outH, Scale(s.inH, s.outH, align), align, false);
  const std::vector<int64_t> cols = NearestTable(s.inW, s.outW, Scale(s.inW, s.outW, align), align, false);
  std::vector<std::vector<int64_t>> byRow(s.inH);
  for (int64_t yRow = 0; yRow < s.outH; yRow++) byRow[rowOf[yRow]].push_back(yRow);
  const int64_t C = s.C;
#pragma omp parallel for schedule(static) if (s.OutSize() >= kParallelMin)
  for (int64_t row = 0; row < s.batch * s.inH; row++) {
    const int64_t b = row / s.inH;
    float* out = dx + row * s.inW * C;
    for (int64_t yRow : byRow[row % s.inH]) {
      const float* g = dy + (b * s.outH + yRow) * s.outW * C;
      for (int64_t c = 0; c < s.outW; c++, g += C) {
        float* q = out + cols[c] * C;
#pragma omp simd
        for (int64_t d = 0; d < C; d++) q[d] += g[d];
      }
    }
  }
  return info.Env().Undefined();
}
UNET_KERNEL("resizeNearestGrad", ResizeNearestGrad);

}  // namespace
}  // namespace layout
}  // namespace unet
