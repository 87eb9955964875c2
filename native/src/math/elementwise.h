// Shared machinery of the element-wise kernels:
// - typed access to float32 / int32 / bool (Uint8Array) buffers, checked against the array kind;
// - JavaScript's ToInt32 (what a store into an Int32Array does), so int32 results match TF.js;
// - the numpy broadcast of two operands, collapsed to the fewest dimensions, and a parallel walk
//   over the output in contiguous spans along the innermost dimension, so that the inner loops
//   are plain vectorisable loops over (vector, vector), (vector, scalar) or (scalar, vector).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common.h"

namespace unet {
namespace math {

// Element-wise loops below this many elements stay on one thread (the fork costs more).
constexpr int64_t kParallelMin = 32768;
// Ranks up to this are accepted (TF.js shapes here have rank <= 6).
constexpr int kMaxRank = 8;

template <typename T>
struct ArrayKind;
template <>
struct ArrayKind<float> {
  static constexpr napi_typedarray_type kind = napi_float32_array;
  static constexpr const char* name = "Float32Array";
};
template <>
struct ArrayKind<int32_t> {
  static constexpr napi_typedarray_type kind = napi_int32_array;
  static constexpr const char* name = "Int32Array";
};
template <>
struct ArrayKind<uint8_t> {
  static constexpr napi_typedarray_type kind = napi_uint8_array;
  static constexpr const char* name = "Uint8Array";
};

/** Argument i as a T buffer; a TypeError unless it is the TypedArray kind that holds T. */
template <typename T>
T* Typed(const Napi::CallbackInfo& info, size_t i) {
  Check(info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == ArrayKind<T>::kind, info.Env(),
        "argument " + std::to_string(i) + ": expected a " + ArrayKind<T>::name);
  return Data<T>(info[i], "argument");
}

inline int64_t SizeOf(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

/** JavaScript's ToInt32: truncate, NaN and infinities to 0, wrap modulo 2^32. */
inline int32_t ToInt32(double d) {
  if (std::fabs(d) < 2147483648.0) return static_cast<int32_t>(d);  // the common, in-range case
  if (!std::isfinite(d)) return 0;
  double m = std::fmod(std::trunc(d), 4294967296.0);  // exact for any double
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

// The broadcast of a and b to the output shape, with size-1 output dimensions dropped and
// neighbouring dimensions merged wherever both operands continue contiguously (or both repeat).
// [N,H,W,C] + [C] becomes [NHW, C] with strides a=[C,1], b=[0,1]; same shapes become [n].
struct Broadcast {
  int rank = 0;
  int64_t size = 1;
  int64_t shape[kMaxRank] = {};
  int64_t sa[kMaxRank] = {};  // element strides of a (0: repeated along that dimension)
  int64_t sb[kMaxRank] = {};
};

inline Broadcast MakeBroadcast(Napi::Env env, const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                               const std::vector<int64_t>& y) {
  const int r = static_cast<int>(y.size());
  Check(r <= kMaxRank && a.size() <= y.size() && b.size() <= y.size(), env, "broadcast: rank too large");
  int64_t sa[kMaxRank], sb[kMaxRank];
  auto strides = [&](const std::vector<int64_t>& s, int64_t* out) {
    const int lead = r - static_cast<int>(s.size());  // operands align to the right of y
    int64_t stride = 1;
    for (int d = r - 1; d >= 0; d--) {
      const int64_t n = d >= lead ? s[d - lead] : 1;
      Check(n == y[d] || n == 1, env, "broadcast: shapes do not broadcast to the output");
      out[d] = n == 1 ? 0 : stride;
      stride *= n;
    }
  };
  strides(a, sa);
  strides(b, sb);
  Broadcast L;
  L.size = SizeOf(y);
  for (int d = 0; d < r; d++) {
    if (y[d] == 1) continue;
    const int p = L.rank - 1;
    if (p >= 0 && L.sa[p] == sa[d] * y[d] && L.sb[p] == sb[d] * y[d]) {
      L.shape[p] *= y[d];  // merge into the outer dimension kept before
      L.sa[p] = sa[d];
      L.sb[p] = sb[d];
      continue;
    }
    L.shape[L.rank] = y[d];
    L.sa[L.rank] = sa[d];
    L.sb[L.rank] = sb[d];
    L.rank++;
  }
  return L;
}

// Calls span(yi, ai, bi, n) for the runs of output elements [begin, end) along the innermost
// dimension: y[yi + k] pairs with a[ai + k * sa_inner] and b[bi + k * sb_inner], k < n.
template <typename Span>
void ForSpans(const Broadcast& L, int64_t begin, int64_t end, Span&& span) {
  if (begin >= end) return;
  if (L.rank == 0) {  // a scalar output
    span(0, 0, 0, 1);
    return;
  }
  const int r = L.rank;
  const int64_t w = L.shape[r - 1];
  int64_t idx[kMaxRank];
  int64_t row = begin / w, col = begin % w;
  int64_t a0 = 0, b0 = 0;  // offsets of the current row's first element
  for (int d = r - 2; d >= 0; d--) {
    idx[d] = row % L.shape[d];
    row /= L.shape[d];
    a0 += idx[d] * L.sa[d];
    b0 += idx[d] * L.sb[d];
  }
  for (int64_t i = begin; i < end;) {
    const int64_t n = std::min(w - col, end - i);
    span(i, a0 + col * L.sa[r - 1], b0 + col * L.sb[r - 1], n);
    i += n;
    col = 0;
    for (int d = r - 2; d >= 0; d--) {  // next row: an odometer over the outer dimensions
      a0 += L.sa[d];
      b0 += L.sb[d];
      if (++idx[d] < L.shape[d]) break;
      idx[d] = 0;
      a0 -= L.sa[d] * L.shape[d];
      b0 -= L.sb[d] * L.shape[d];
    }
  }
}

// Splits [0, n) into one contiguous chunk per thread (multiples of 16 elements, so that threads
// never write the same cache line) when n is large enough, and calls chunk(begin, end).
template <typename Chunk>
void ParallelChunks(int64_t n, Chunk&& chunk) {
  if (n < kParallelMin) {
    chunk(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t per = ((n + nt - 1) / nt + 15) / 16 * 16;
    const int64_t begin = std::min(n, t * per);
    chunk(begin, std::min(n, begin + per));
  }
}

// y = op(a, b) over a broadcast, with the inner-loop kind (is each operand a vector or a repeated
// scalar along the innermost dimension) fixed at compile time so that each loop vectorises.
template <bool VA, bool VB, typename T, typename R, typename Op>
void BinaryLoops(const Broadcast& L, const T* a, const T* b, R* y, Op op) {
  ParallelChunks(L.size, [&](int64_t begin, int64_t end) {
    ForSpans(L, begin, end, [&](int64_t yi, int64_t ai, int64_t bi, int64_t n) {
      const T* pa = a + ai;
      const T* pb = b + bi;
      R* py = y + yi;
      if constexpr (VA && VB) {
#pragma omp simd
        for (int64_t k = 0; k < n; k++) py[k] = op(pa[k], pb[k]);
      } else if constexpr (VA) {
        const T bv = *pb;
#pragma omp simd
        for (int64_t k = 0; k < n; k++) py[k] = op(pa[k], bv);
      } else if constexpr (VB) {
        const T av = *pa;
#pragma omp simd
        for (int64_t k = 0; k < n; k++) py[k] = op(av, pb[k]);
      } else {
        const R v = op(*pa, *pb);
        for (int64_t k = 0; k < n; k++) py[k] = v;
      }
    });
  });
}

template <typename T, typename R, typename Op>
void BinaryBroadcast(const Broadcast& L, const T* a, const T* b, R* y, Op op) {
  const bool va = L.rank > 0 && L.sa[L.rank - 1] != 0;
  const bool vb = L.rank > 0 && L.sb[L.rank - 1] != 0;
  if (va && vb) BinaryLoops<true, true>(L, a, b, y, op);
  else if (va) BinaryLoops<true, false>(L, a, b, y, op);
  else if (vb) BinaryLoops<false, true>(L, a, b, y, op);
  else BinaryLoops<false, false>(L, a, b, y, op);
}

// JS signature shared by every binary kernel: name(a, aShape, b, bShape, y, yShape), where y is
// already allocated with the broadcast shape yShape.
template <typename T, typename R, typename Op>
Napi::Value RunBinary(const Napi::CallbackInfo& info, Op op) {
  Napi::Env env = info.Env();
  const T* a = Typed<T>(info, 0);
  const T* b = Typed<T>(info, 2);
  R* y = Typed<R>(info, 4);
  const std::vector<int64_t> aShape = Ints(info, 1), bShape = Ints(info, 3), yShape = Ints(info, 5);
  Check(static_cast<int64_t>(Length(info, 0)) == SizeOf(aShape) && static_cast<int64_t>(Length(info, 2)) == SizeOf(bShape) &&
            static_cast<int64_t>(Length(info, 4)) == SizeOf(yShape),
        env, "binary: a buffer's length differs from its shape");
  BinaryBroadcast(MakeBroadcast(env, aShape, bShape, yShape), a, b, y, op);
  return env.Undefined();
}

#define UNET_BINARY(js, T, R, expr)                                                    \
  Napi::Value js(const Napi::CallbackInfo& info) {                                     \
    return ::unet::math::RunBinary<T, R>(info, [](T a, T b) -> R { return (expr); }); \
  }                                                                                    \
  UNET_KERNEL(#js, js)

// JS signature of the element-wise maps: name(x, y[, ...]) with x and y of equal length.
template <typename T, typename R, typename F>
Napi::Value RunMap(const Napi::CallbackInfo& info, F f) {
  const T* x = Typed<T>(info, 0);
  R* y = Typed<R>(info, 1);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  Check(static_cast<int64_t>(Length(info, 1)) == n, info.Env(), "map: x and y differ in length");
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
  return info.Env().Undefined();
}

}  // namespace math
}  // namespace unet
