// Select (tf.where): y = condition ? t : e. The condition has one value per `inner` consecutive
// elements of t: inner = 1 when it has t's shape, inner = size(t.shape[1:]) for a rank-1 condition
// over t's first axis. Like the CPU kernel, only a condition value of exactly 1 picks t.
// JS: select_4(condition: Uint8Array, t, e, y, inner) for float32/int32 values (copied as 32-bit
// words, so NaN payloads pass through unchanged); select_1 for bool (Uint8Array) values.
#include <algorithm>

#include "elementwise.h"

namespace unet {
namespace math {
namespace {

// A Float32Array or Int32Array, seen as 32-bit words.
const uint32_t* Words(const Napi::CallbackInfo& info, size_t i) {
  const bool ok = info[i].IsTypedArray() && (info[i].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array ||
                                             info[i].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array);
  Check(ok, info.Env(), "argument " + std::to_string(i) + ": expected a Float32Array or an Int32Array");
  return Data<uint32_t>(info[i], "argument");
}

template <typename W>
void SelectLoop(const uint8_t* c, const W* t, const W* e, W* y, int64_t rows, int64_t inner) {
  const int64_t n = rows * inner;
  if (inner == 1) {
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) y[i] = c[i] == 1 ? t[i] : e[i];
    return;
  }
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const W* src = (c[r] == 1 ? t : e) + r * inner;
    std::copy(src, src + inner, y + r * inner);
  }
}

template <typename W>
Napi::Value RunSelect(const Napi::CallbackInfo& info, const W* t, const W* e, W* y) {
  const uint8_t* c = Typed<uint8_t>(info, 0);
  const int64_t rows = static_cast<int64_t>(Length(info, 0)), inner = Int(info, 4);
  const int64_t n = rows * inner;
  Check(inner >= 1 && static_cast<int64_t>(Length(info, 1)) == n && static_cast<int64_t>(Length(info, 2)) == n &&
            static_cast<int64_t>(Length(info, 3)) == n,
        info.Env(), "select: t, e and y must hold condition.length * inner elements");
  SelectLoop(c, t, e, y, rows, inner);
  return info.Env().Undefined();
}

Napi::Value select_4(const Napi::CallbackInfo& info) {
  return RunSelect<uint32_t>(info, Words(info, 1), Words(info, 2), const_cast<uint32_t*>(Words(info, 3)));
}
UNET_KERNEL("select_4", select_4);

Napi::Value select_1(const Napi::CallbackInfo& info) {
  return RunSelect<uint8_t>(info, Typed<uint8_t>(info, 1), Typed<uint8_t>(info, 2), Typed<uint8_t>(info, 3));
}
UNET_KERNEL("select_1", select_1);

}  // namespace
}  // namespace math
}  // namespace unet
