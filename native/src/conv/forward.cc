// Conv2D / FusedConv2D forward: y[N,OH,OW,O] = act(x[N,H,W,C] * w[KH,KW,C,O] + bias[O]).
// From JS: conv2dForward(x, w, bias: Float32Array | null, y, geometry: number[17], activation, alpha)
// with activation 0 linear, 1 relu, 2 relu6, 3 leakyrelu (alpha), 4 sigmoid, 5 elu.
// Bias and activation are fused into the primitive (bias and an eltwise post-op).
#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {
namespace {

struct Forward {
  dnnl::convolution_forward prim;
  memory x, y, bias;
  Staged w;
};

Forward MakeForward(const Geometry& g, bool hasBias, int64_t activation, float alpha) {
  memory::desc biasDesc = hasBias ? memory::desc({g.o}, dt::f32, tag::x) : memory::desc();
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, g.X(),
                                    g.WAny(), biasDesc, g.Y(), g.Strides(), g.Dilations(), g.PadL(), g.PadR());
  dnnl::post_ops po;
  AppendActivation(po, activation, alpha);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  dnnl::convolution_forward::primitive_desc pd(d, attr, Engine());
  return Forward{dnnl::convolution_forward(pd), memory(g.X(), Engine(), nullptr), memory(g.Y(), Engine(), nullptr),
                 hasBias ? memory(biasDesc, Engine(), nullptr) : memory(), Staged(g.WUser(), pd.weights_desc(), true)};
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
  static Cache<Forward> cache;
  return Guarded(info, hasBias || activation ? "FusedConv2D" : kernel, [&] {
    std::vector<int64_t> key = g.Key();
    key.push_back(hasBias);
    key.push_back(activation);
    uint32_t alphaBits = 0;
    if (activation == 3) std::memcpy(&alphaBits, &alpha, sizeof(alpha));
    key.push_back(alphaBits);
    Forward& f = cache.Get(key, [&] { return MakeForward(g, hasBias, activation, alpha); });
    f.w.In(w);
    f.x.set_data_handle(x);
    f.y.set_data_handle(y);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, f.x}, {DNNL_ARG_WEIGHTS, f.w.prim}, {DNNL_ARG_DST, f.y}};
    if (hasBias) {
      f.bias.set_data_handle(bias);
      args.emplace(DNNL_ARG_BIAS, f.bias);
    }
    f.prim.execute(Stream(), args);
    Stream().wait();
  });
}
UNET_KERNEL("conv2dForward", Conv2dForward);

}  // namespace
}  // namespace conv
}  // namespace unet
