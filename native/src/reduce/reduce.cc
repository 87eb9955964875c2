// Sum, Mean, Max, Min, Prod, All, Any over any axis set (see plan.h).
// Signature from JS: name(x, y, shape: number[], axes: number[]); y holds the kept elements in
// order. Sums and products accumulate in double (the CPU kernel accumulates in a JS double too).
#include <cmath>
#include <limits>

#include "plan.h"

namespace unet {
namespace {

struct SumF32 {
  using Acc = double;
  static Acc Init() { return 0.0; }
  static Acc Step(Acc a, float x) { return a + x; }
  static Acc Merge(Acc a, Acc b) { return a + b; }
  static float Finish(Acc a, double) { return static_cast<float>(a); }
};

struct MeanF32 : SumF32 {
  static float Finish(Acc a, double n) { return static_cast<float>(a / n); }
};

// NaN wins, as in the CPU kernel (a NaN is never replaced; a NaN replaces anything).
struct MaxF32 {
  using Acc = float;
  static Acc Init() { return -std::numeric_limits<float>::infinity(); }
  static Acc Step(Acc a, float x) { return (x > a || x != x) ? x : a; }
  static Acc Merge(Acc a, Acc b) { return Step(a, b); }
  static float Finish(Acc a, double) { return a; }
};

struct MinF32 {
  using Acc = float;
  static Acc Init() { return std::numeric_limits<float>::infinity(); }
  static Acc Step(Acc a, float x) { return (x < a || x != x) ? x : a; }
  static Acc Merge(Acc a, Acc b) { return Step(a, b); }
  static float Finish(Acc a, double) { return a; }
};

struct ProdF32 {
  using Acc = double;
  static Acc Init() { return 1.0; }
  static Acc Step(Acc a, float x) { return a * x; }
  static Acc Merge(Acc a, Acc b) { return a * b; }
  static float Finish(Acc a, double) { return static_cast<float>(a); }
};

// int32 sums wrap like the CPU kernel's store into an Int32Array.
struct SumI32 {
  using Acc = int64_t;
  static Acc Init() { return 0; }
  static Acc Step(Acc a, int32_t x) { return a + x; }
  static Acc Merge(Acc a, Acc b) { return a + b; }
  static int32_t Finish(Acc a, double) { return static_cast<int32_t>(static_cast<uint32_t>(a)); }
};

struct AllBool {
  using Acc = uint8_t;
  static Acc Init() { return 1; }
  static Acc Step(Acc a, uint8_t x) { return a & (x != 0); }
  static Acc Merge(Acc a, Acc b) { return a & b; }
  static uint8_t Finish(Acc a, double) { return a; }
};

struct AnyBool {
  using Acc = uint8_t;
  static Acc Init() { return 0; }
  static Acc Step(Acc a, uint8_t x) { return a | (x != 0); }
  static Acc Merge(Acc a, Acc b) { return a | b; }
  static uint8_t Finish(Acc a, double) { return a; }
};

template <typename T>
T* Typed(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  Check(info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == type, info.Env(),
        "argument " + std::to_string(i) + ": expected " + what);
  return Data<T>(info[i], "argument");
}

template <typename Op, typename In, typename Out>
Napi::Value Reduce(const Napi::CallbackInfo& info, napi_typedarray_type inType, napi_typedarray_type outType) {
  const In* x = Typed<In>(info, 0, inType, "the input's TypedArray");
  Out* y = Typed<Out>(info, 1, outType, "the output's TypedArray");
  const std::vector<int64_t> shape = Ints(info, 2);
  const std::vector<int64_t> axes = Ints(info, 3);
  for (int64_t a : axes) Check(a >= 0 && a < static_cast<int64_t>(shape.size()), info.Env(), "reduce: axis out of range");
  const ReducePlan p = MakePlan(shape, axes);
  Check(static_cast<int64_t>(Length(info, 0)) == p.total, info.Env(), "reduce: x does not match its shape");
  Check(static_cast<int64_t>(Length(info, 1)) == p.rows * p.RowWidth(), info.Env(), "reduce: y has the wrong length");
  RunReduce<Op>(p, x, y);
  return info.Env().Undefined();
}

Napi::Value reduceSum(const Napi::CallbackInfo& info) { return Reduce<SumF32, float, float>(info, napi_float32_array, napi_float32_array); }
Napi::Value reduceMean(const Napi::CallbackInfo& info) { return Reduce<MeanF32, float, float>(info, napi_float32_array, napi_float32_array); }
Napi::Value reduceMax(const Napi::CallbackInfo& info) { return Reduce<MaxF32, float, float>(info, napi_float32_array, napi_float32_array); }
Napi::Value reduceMin(const Napi::CallbackInfo& info) { return Reduce<MinF32, float, float>(info, napi_float32_array, napi_float32_array); }
Napi::Value reduceProd(const Napi::CallbackInfo& info) { return Reduce<ProdF32, float, float>(info, napi_float32_array, napi_float32_array); }
Napi::Value reduceSumInt(const Napi::CallbackInfo& info) { return Reduce<SumI32, int32_t, int32_t>(info, napi_int32_array, napi_int32_array); }
Napi::Value reduceAll(const Napi::CallbackInfo& info) { return Reduce<AllBool, uint8_t, uint8_t>(info, napi_uint8_array, napi_uint8_array); }
Napi::Value reduceAny(const Napi::CallbackInfo& info) { return Reduce<AnyBool, uint8_t, uint8_t>(info, napi_uint8_array, napi_uint8_array); }

UNET_KERNEL("reduceSum", reduceSum);
UNET_KERNEL("reduceMean", reduceMean);
UNET_KERNEL("reduceMax", reduceMax);
UNET_KERNEL("reduceMin", reduceMin);
UNET_KERNEL("reduceProd", reduceProd);
UNET_KERNEL("reduceSumInt", reduceSumInt);
UNET_KERNEL("reduceAll", reduceAll);
UNET_KERNEL("reduceAny", reduceAny);

}  // namespace
}  // namespace unet
