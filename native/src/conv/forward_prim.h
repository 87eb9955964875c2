// The forward convolution primitive shared by conv2dForward (forward.cc) and depthwiseForward (depthwise.cc):
// bias and activation fused in (a bias and an eltwise post-op), weights described by the caller (dense HWIO, or
// grouped for depthwise) and reordered per call into the primitive's preferred layout.
#pragma once
#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {

struct ForwardPrim {
  dnnl::convolution_forward prim;
  memory x, y, bias;
  Staged w;
};

inline ForwardPrim MakeForwardPrim(const Geometry& g, const memory::desc& wUser, const memory::desc& wAny, bool hasBias,
                                   int64_t activation, float alpha) {
  memory::desc biasDesc = hasBias ? memory::desc({g.o}, dt::f32, tag::x) : memory::desc();
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, g.X(),
                                    wAny, biasDesc, g.Y(), g.Strides(), g.Dilations(), g.PadL(), g.PadR());
  dnnl::post_ops po;
  AppendActivation(po, activation, alpha);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  dnnl::convolution_forward::primitive_desc pd(d, attr, Engine());
  return ForwardPrim{dnnl::convolution_forward(pd), memory(g.X(), Engine(), nullptr), memory(g.Y(), Engine(), nullptr),
                     hasBias ? memory(biasDesc, Engine(), nullptr) : memory(), Staged(wUser, pd.weights_desc(), true)};
}

// Runs the cached primitive for (key, bias, activation, alpha), making it with make() the first time.
template <typename Make>
void RunForwardPrim(Cache<ForwardPrim>& cache, std::vector<int64_t> key, float* x, float* w, float* bias, float* y,
                    int64_t activation, float alpha, Make make) {
  key.push_back(bias != nullptr);
  key.push_back(activation);
  uint32_t alphaBits = 0;
  if (activation == 3) std::memcpy(&alphaBits, &alpha, sizeof(alpha));
  key.push_back(alphaBits);
  ForwardPrim& f = cache.Get(key, make);
  f.w.In(w);
  f.x.set_data_handle(x);
  f.y.set_data_handle(y);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, f.x}, {DNNL_ARG_WEIGHTS, f.w.prim}, {DNNL_ARG_DST, f.y}};
  if (bias) {
    f.bias.set_data_handle(bias);
    args.emplace(DNNL_ARG_BIAS, f.bias);
  }
  f.prim.execute(Stream(), args);
  Stream().wait();
}

}  // namespace conv
}  // namespace unet
