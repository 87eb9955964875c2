// Conv2D / FusedConv2D forward: y[N,OH,OW,O] = act(x[N,H,W,C] * w[KH,KW,C,O] + bias[O]).
// From JS: conv2dForward(x, w, bias: Float32Array | null, y, geometry: number[17], activation, alpha,
// bf16?, xId?, wId?) with activation 0 linear, 1 relu, 2 relu6, 3 leakyrelu (alpha), 4 sigmoid, 5 elu;
// returns whether it ran in bf16 (bf16 x and w, fp32 accumulation, bias and y fp32).
// Bias and activation are fused into the primitive (bias and an eltwise post-op).
#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {
namespace {

struct Forward {
  dnnl::convolution_forward prim;
  memory x, y, bias;
  Staged w;
  bool bf16;
  memory::desc srcDesc;  // bf16: the layout the primitive reads x in
  memory::desc scratchpadDesc;
};

void AppendActivation(dnnl::post_ops& po, int64_t activation, float alpha) {
  using dnnl::algorithm;
  switch (activation) {
    case 0: return;
    case 1: po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); return;
    case 2: po.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f); return;
    case 3: po.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); return;
    case 4: po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); return;
    case 5: po.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); return;
  }
}

Forward MakeForward(const Geometry& g, bool hasBias, int64_t activation, float alpha, bool bf16) {
  memory::desc biasDesc = hasBias ? memory::desc({g.o}, dt::f32, tag::x) : memory::desc();
  dnnl::post_ops po;
  AppendActivation(po, activation, alpha);
  dnnl::primitive_attr attr = UserScratchpad();
  attr.set_post_ops(po);
  bool used = false;
  auto pd = Bf16OrFp32<dnnl::convolution_forward::primitive_desc>(bf16, [&](bool b) {
    const dt in = b ? dt::bf16 : dt::f32;
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, g.X(in),
                                      g.WAny(in), biasDesc, g.Y(), g.Strides(), g.Dilations(), g.PadL(), g.PadR());
    return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
  }, &used);
  RecordImpl("Conv2D", g.Key(), pd.impl_info_str(), used);
  return Forward{dnnl::convolution_forward(pd), memory(g.X(), Engine(), nullptr), memory(g.Y(), Engine(), nullptr),
                 hasBias ? memory(biasDesc, Engine(), nullptr) : memory(), Staged(g.WUser(), pd.weights_desc(), true), used, pd.src_desc(), pd.scratchpad_desc()};
}

Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  const char* kernel = "Conv2D";
  Geometry g = Geometry::FromJs(info, 4);
  float* x = Tensor(info, 0, g.XSize(), kernel, "x");
  float* w = Tensor(info, 1, g.WSize(), kernel, "filter");
  const bool hasBias = !info[2].IsNull() && !info[2].IsUndefined();
  float* bias = hasBias ? Tensor(info, 2, g.o, kernel, "bias") : nullptr;
  float* y = Tensor(info, 3, g.YSize(), kernel, "y");
  const int64_t activation = Int(info, 5);
  const float alpha = static_cast<float>(Num(info, 6));
  Check(activation >= 0 && activation <= 5, info.Env(), "conv2dForward: unknown activation");
  const bool bf16 = info.Length() > 7 && Bool(info, 7);
  const uint64_t xId = Id(info, 8), wId = Id(info, 9);
  static Cache<Forward> cache;
  bool ranBf16 = false;
  Guarded(info, hasBias || activation ? "FusedConv2D" : kernel, [&] {
    std::vector<int64_t> key = g.Key();
    key.push_back(hasBias);
    key.push_back(activation);
    uint32_t alphaBits = 0;
    if (activation == 3) std::memcpy(&alphaBits, &alpha, sizeof(alpha));
    key.push_back(alphaBits);
    key.push_back(bf16);
    Forward& f = cache.Get(key, [&] { return MakeForward(g, hasBias, activation, alpha, bf16); });
    f.w.In(w, wId);
    f.y.set_data_handle(y);
    memory src = f.x;
    if (f.bf16) {
      src = Activations().Get(g.X(), f.srcDesc, x, xId);
    } else {
      f.x.set_data_handle(x);
    }
    ranBf16 = f.bf16;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, f.w.prim}, {DNNL_ARG_DST, f.y},
                                         {DNNL_ARG_SCRATCHPAD, Scratchpad().For(f.scratchpadDesc)}};
    if (hasBias) {
      f.bias.set_data_handle(bias);
      args.emplace(DNNL_ARG_BIAS, f.bias);
    }
    f.prim.execute(Stream(), args);
    Stream().wait();
  });
  return Napi::Boolean::New(info.Env(), ranBf16);
}
UNET_KERNEL("conv2dForward", Conv2dForward);

}  // namespace
}  // namespace conv
}  // namespace unet
