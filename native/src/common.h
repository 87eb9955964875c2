// Shared helpers for every kernel family: argument access, threads, a module registry.
// Tensors arrive as TypedArrays owned by the TF.js CPU backend's data store (no copy at the
// boundary); outputs are TypedArrays allocated on the JavaScript side and filled here.
#pragma once
#include <napi.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace unet {

// Threads follow the machine's cores unless UNET_TRANSFER_THREADS says otherwise.
inline int ConfigureThreads() {
  static int threads = [] {
    int n = omp_get_num_procs();
    if (const char* env = std::getenv("UNET_TRANSFER_THREADS")) {
      int v = std::atoi(env);
      if (v > 0) n = v;
    }
    omp_set_num_threads(n);
    return n;
  }();
  return threads;
}

inline void Check(bool ok, Napi::Env env, const std::string& message) {
  if (!ok) throw Napi::TypeError::New(env, message);
}

template <typename T>
inline T* Data(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  Check(v.IsTypedArray(), env, std::string(what) + ": expected a TypedArray");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  Napi::ArrayBuffer buf = ta.ArrayBuffer();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(buf.Data()) + ta.ByteOffset());
}

inline float* F32(const Napi::CallbackInfo& info, size_t i) {
  Check(info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array,
        info.Env(), "argument " + std::to_string(i) + ": expected a Float32Array");
  return Data<float>(info[i], "argument");
}

inline int32_t* I32(const Napi::CallbackInfo& info, size_t i) {
  Check(info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array,
        info.Env(), "argument " + std::to_string(i) + ": expected an Int32Array");
  return Data<int32_t>(info[i], "argument");
}

inline size_t Length(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::TypedArray>().ElementLength();
}

inline int64_t Int(const Napi::CallbackInfo& info, size_t i) {
  Check(info[i].IsNumber(), info.Env(), "argument " + std::to_string(i) + ": expected a number");
  return info[i].As<Napi::Number>().Int64Value();
}

inline double Num(const Napi::CallbackInfo& info, size_t i) {
  Check(info[i].IsNumber(), info.Env(), "argument " + std::to_string(i) + ": expected a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline bool Bool(const Napi::CallbackInfo& info, size_t i) {
  return info[i].ToBoolean().Value();
}

// A JS array of integers (a shape, an axis list, ...).
inline std::vector<int64_t> Ints(const Napi::CallbackInfo& info, size_t i) {
  Check(info[i].IsArray(), info.Env(), "argument " + std::to_string(i) + ": expected an array of numbers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) out[k] = a.Get(k).As<Napi::Number>().Int64Value();
  return out;
}

// exp(x) to about 2 ulp (Cephes' expf polynomial), written so that loops over it vectorise: glibc's expf is
// a scalar call unless the whole file is built with -ffast-math. For softmax-like uses (x <= 0 after
// subtracting a maximum), where the result feeds sums and gradients, not for the Exp kernel itself.
inline float FastExp(float x) {
  x = x < -87.33f ? -87.33f : (x > 88.37f ? 88.37f : x);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

// log(x) for positive normal x to about 1 ulp (Cephes' logf polynomial), branch-free so that loops over it
// vectorise. For sums of exponentials (the softmax denominator), never for zero, negative or denormal x.
inline float FastLog(float x) {
  int32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  float e = static_cast<float>(((bits >> 23) & 0xff) - 126);
  bits = (bits & 0x007fffff) | 0x3f000000;  // the mantissa, in [0.5, 1)
  float m;
  std::memcpy(&m, &bits, sizeof(m));
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1.f : e;
  const float z = small ? m + m - 1.f : m - 1.f;
  const float z2 = z * z;
  float y = 7.0376836292e-2f;
  y = y * z - 1.1514610310e-1f;
  y = y * z + 1.1676998740e-1f;
  y = y * z - 1.2420140846e-1f;
  y = y * z + 1.4249322787e-1f;
  y = y * z - 1.6668057665e-1f;
  y = y * z + 2.0000714765e-1f;
  y = y * z - 2.4999993993e-1f;
  y = y * z + 3.3333331174e-1f;
  y = y * z * z2;
  y += -2.12194440e-4f * e;
  y += -0.5f * z2;
  return z + y + 0.693359375f * e;
}

// Each family's .cc files register their functions at static-initialisation time, so that adding a
// kernel never means editing a shared list.
using KernelFn = Napi::Value (*)(const Napi::CallbackInfo&);
inline std::vector<std::pair<const char*, KernelFn>>& Registry() {
  static std::vector<std::pair<const char*, KernelFn>> r;
  return r;
}
struct Register {
  Register(const char* name, KernelFn fn) { Registry().emplace_back(name, fn); }
};
#define UNET_KERNEL(name, fn) static ::unet::Register unet_register_##fn(name, fn)

inline Napi::Object InitModule(Napi::Env env, Napi::Object exports, const char* family) {
  exports.Set("family", Napi::String::New(env, family));
  exports.Set("threads", Napi::Number::New(env, ConfigureThreads()));
  for (auto& [name, fn] : Registry()) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}

#define UNET_MODULE(family)                                                        \
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {                 \
    return ::unet::InitModule(env, exports, #family);                             \
  }                                                                                \
  NODE_API_MODULE(unet_##family, Init)

}  // namespace unet
