// ArgMax / ArgMin along one axis, with the input viewed as [outer, n, inner] (no transpose).
// Signature from JS: name(x: Float32Array, y: Int32Array, outer, n, inner).
// Ties and NaN as in the CPU kernel: the first element starts as the best and only a strictly
// better value replaces it, so the first extremum wins and a NaN is never chosen unless first.
#include "plan.h"

namespace unet {
namespace {

template <bool kMax>
inline bool Better(float v, float best) { return kMax ? v > best : v < best; }

template <bool kMax>
Napi::Value Arg(const Napi::CallbackInfo& info) {
  const float* x = F32(info, 0);
  int32_t* y = I32(info, 1);
  const int64_t outer = Int(info, 2), n = Int(info, 3), inner = Int(info, 4);
  Check(n > 0 && static_cast<int64_t>(Length(info, 0)) == outer * n * inner, info.Env(), "arg: x does not match [outer, n, inner]");
  Check(static_cast<int64_t>(Length(info, 1)) == outer * inner, info.Env(), "arg: y does not match [outer, inner]");
  const bool parallel = outer * n * inner >= kParallelThreshold;
  if (inner == 1) {
    // The last axis (class scores per pixel): one contiguous row per output.
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t o = 0; o < outer; o++) {
      const float* row = x + o * n;
      float best = row[0];
      int32_t at = 0;
      for (int64_t j = 1; j < n; j++) {
        if (Better<kMax>(row[j], best)) best = row[j], at = static_cast<int32_t>(j);
      }
      y[o] = at;
    }
    return info.Env().Undefined();
  }
  // An inner axis: keep a vector of `inner` running extrema and sweep the n slices in order.
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t o = 0; o < outer; o++) {
    const float* base = x + o * n * inner;
    int32_t* at = y + o * inner;
    std::vector<float> best(base, base + inner);
    for (int64_t i = 0; i < inner; i++) at[i] = 0;
    for (int64_t j = 1; j < n; j++) {
      const float* slice = base + j * inner;
      for (int64_t i = 0; i < inner; i++) {
        if (Better<kMax>(slice[i], best[i])) best[i] = slice[i], at[i] = static_cast<int32_t>(j);
      }
    }
  }
  return info.Env().Undefined();
}

Napi::Value argMax(const Napi::CallbackInfo& info) { return Arg<true>(info); }
Napi::Value argMin(const Napi::CallbackInfo& info) { return Arg<false>(info); }

UNET_KERNEL("argMax", argMax);
UNET_KERNEL("argMin", argMin);

}  // namespace
}  // namespace unet
