// OneHot: y[i, k] = (indices[i] == k) ? on : off, for k < depth; an index outside [0, depth)
// gives a row of `off` (as in the CPU kernel).
// Signature from JS: oneHotF32(indices: Int32Array, y: Float32Array, depth, on, off), and
// oneHotI32 with an Int32Array y.
#include "plan.h"

namespace unet {
namespace {

template <typename T>
void OneHot(const int32_t* idx, T* y, int64_t n, int64_t depth, T on, T off) {
#pragma omp parallel for schedule(static) if (n * depth >= kParallelThreshold)
  for (int64_t i = 0; i < n; i++) {
    T* row = y + i * depth;
    for (int64_t k = 0; k < depth; k++) row[k] = off;
    const int32_t c = idx[i];
    if (c >= 0 && c < depth) row[c] = on;
  }
}

Napi::Value oneHotF32(const Napi::CallbackInfo& info) {
  const int64_t n = static_cast<int64_t>(Length(info, 0)), depth = Int(info, 2);
  Check(static_cast<int64_t>(Length(info, 1)) == n * depth, info.Env(), "oneHot: y must hold indices x depth values");
  OneHot<float>(I32(info, 0), F32(info, 1), n, depth, static_cast<float>(Num(info, 3)), static_cast<float>(Num(info, 4)));
  return info.Env().Undefined();
}

Napi::Value oneHotI32(const Napi::CallbackInfo& info) {
  const int64_t n = static_cast<int64_t>(Length(info, 0)), depth = Int(info, 2);
  Check(static_cast<int64_t>(Length(info, 1)) == n * depth, info.Env(), "oneHot: y must hold indices x depth values");
  OneHot<int32_t>(I32(info, 0), I32(info, 1), n, depth, static_cast<int32_t>(Num(info, 3)), static_cast<int32_t>(Num(info, 4)));
  return info.Env().Undefined();
}

UNET_KERNEL("oneHotF32", oneHotF32);
UNET_KERNEL("oneHotI32", oneHotI32);

}  // namespace
}  // namespace unet
