// What the CPU offers the convolutions: oneDNN's effective ISA and the bf16 units from cpuid, and which
// oneDNN implementations the conv kernels created.
// From JS: cpuInfo() -> { isa, avx512Bf16, amxBf16, bf16Isa }; conv2dImplementations() -> [{ kernel, geometry,
// impl, bf16 }].
#include <cpuid.h>

#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {
namespace {

const char* IsaName(dnnl::cpu_isa isa) {
  using I = dnnl::cpu_isa;
  switch (isa) {
    case I::sse41: return "sse41";
    case I::avx: return "avx";
    case I::avx2: return "avx2";
    case I::avx2_vnni: return "avx2_vnni";
    case I::avx512_mic: return "avx512_mic";
    case I::avx512_mic_4ops: return "avx512_mic_4ops";
    case I::avx512_core: return "avx512_core";
    case I::avx512_core_vnni: return "avx512_core_vnni";
    case I::avx512_core_bf16: return "avx512_core_bf16";
    case I::avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
  }
}

// cpuid leaf 7: subleaf 1 EAX bit 5 = AVX512_BF16; subleaf 0 EDX bit 22 = AMX-BF16.
void Bf16Units(bool* avx512Bf16, bool* amxBf16) {
  unsigned a, b, c, d;
  *avx512Bf16 = *amxBf16 = false;
  if (__get_cpuid_max(0, nullptr) < 7) return;
  __cpuid_count(7, 0, a, b, c, d);
  *amxBf16 = (d >> 22) & 1;
  const unsigned subleaves = a;
  if (subleaves >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    *avx512Bf16 = (a >> 5) & 1;
  }
}

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool avx512Bf16, amxBf16;
  Bf16Units(&avx512Bf16, &amxBf16);
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", IsaName(isa));
  o.Set("avx512Bf16", avx512Bf16);
  o.Set("amxBf16", amxBf16);
  // oneDNN's own bf16 kernels start at avx512_core_bf16 (below it bf16 is emulated, slower than fp32).
  o.Set("bf16Isa", isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx);
  return o;
}
UNET_KERNEL("cpuInfo", CpuInfo);

Napi::Value Conv2dImplementations(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(Lock());
  const auto& records = Implementations();
  Napi::Array out = Napi::Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("kernel", records[i].kernel);
    Napi::Array key = Napi::Array::New(env, Geometry::kFields);
    for (size_t k = 0; k < Geometry::kFields; k++) key.Set(k, Napi::Number::New(env, static_cast<double>(records[i].key[k])));
    o.Set("geometry", key);
    o.Set("impl", records[i].impl);
    o.Set("bf16", records[i].bf16);
    out.Set(i, o);
  }
  return out;
}
UNET_KERNEL("conv2dImplementations", Conv2dImplementations);

// conv2dPhaseTimes(reset?) -> { compute, activations, weights, gradients } in ms since the last reset (dnnl_conv.h).
Napi::Value Conv2dPhaseTimes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(Lock());
  PhaseTimes& p = Phases();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compute", p.compute);
  o.Set("activations", p.activations);
  o.Set("weights", p.weights);
  o.Set("gradients", p.gradients);
  if (info.Length() > 0 && Bool(info, 0)) p = PhaseTimes();
  return o;
}
UNET_KERNEL("conv2dPhaseTimes", Conv2dPhaseTimes);

}  // namespace
}  // namespace conv
}  // namespace unet
