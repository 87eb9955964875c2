// The forward convolution primitive shared by conv2dForward (forward.cc) and depthwiseForward (depthwise.cc):
// bias and activation fused in (a bias and an eltwise post-op), weights described by the caller (dense HWIO, or
// grouped for depthwise) and reordered into the primitive's preferred layout (skipped while the same weight
// tensor comes back; a Winograd layer's copy is shared with its backward-data primitive, see SharedWeights). In
// bf16 (dense only) x and w are read as bf16 copies, accumulation, bias and y stay fp32.
// With Winograd (fp32, dense 3x3, see WinogradPays) x is read as a blocked copy and y written blocked, then copied
// to NHWC.
#pragma once
#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {

struct ForwardPrim {
  dnnl::convolution_forward prim;
  memory x, bias;
  Staged w;
  ActivationOut y;
  bool bf16;
  memory::desc srcDesc;  // the layout the primitive reads x in (a copy when it is not x's NHWC)
  memory::desc scratchpadDesc;
};

// wAny: the weights' logical dims with format any (fp32); in bf16 the same dims in bf16 are asked for. kernel:
// the name the implementation is recorded under (convImplementations).
inline ForwardPrim MakeForwardPrim(const Geometry& g, const memory::desc& wUser, const memory::desc& wAny, bool hasBias,
                                   int64_t activation, float alpha, bool bf16, const char* kernel) {
  memory::desc biasDesc = hasBias ? memory::desc({g.o}, dt::f32, tag::x) : memory::desc();
  dnnl::post_ops po;
  AppendActivation(po, activation, alpha);
  dnnl::primitive_attr attr = UserScratchpad();
  attr.set_post_ops(po);
  bool used = false;
  const bool dense = wAny.dims().size() == 4;  // grouped (depthwise) weights have 5 dims
  auto pd = Bf16OrFp32<dnnl::convolution_forward::primitive_desc>(bf16, [&](bool b) {
    const dt in = b ? dt::bf16 : dt::f32;
    return WithAlgorithm<dnnl::convolution_forward::primitive_desc>(g, Pass::kForward, b || !dense, [&](dnnl::algorithm a) {
      // Winograd for inference would want its weights pre-transformed (a slow reorder at every call, as the weights
      // change at every step); for training they stay in a plain blocked layout.
      const auto prop = a == dnnl::algorithm::convolution_winograd ? dnnl::prop_kind::forward_training
                                                                   : dnnl::prop_kind::forward_inference;
      dnnl::convolution_forward::desc d(prop, a, ActivationDesc(g.X(in), a), memory::desc(wAny.dims(), in, tag::any), biasDesc, ActivationDesc(g.Y(), a),
                                        g.Strides(), g.Dilations(), g.PadL(), g.PadR());
      dnnl::convolution_forward::primitive_desc pd(d, attr, Engine());
      // fp32 only: the rule was measured on fp32 kernels (bf16 has no plain jit forward on Zen 5).
      return !b && dense && a == dnnl::algorithm::convolution_direct ? DirectJitForSmallMaps(pd, g) : pd;
    });
  }, &used);
  RecordImpl(kernel, g.Key(), pd.impl_info_str(), used);
  return ForwardPrim{dnnl::convolution_forward(pd),
                     memory(g.X(), Engine(), nullptr),
                     hasBias ? memory(biasDesc, Engine(), nullptr) : memory(),
                     Staged(wUser, pd.weights_desc(), true, IsWinograd(pd.impl_info_str())),
                     ActivationOut(g.Y(), pd.dst_desc()),
                     used,
                     pd.src_desc(),
                     pd.scratchpad_desc()};
}

// Runs the cached primitive for (key, bias, activation, alpha, bf16), making it with make() the first time;
// xId / wId are the tensors' identities (0 = unknown). Returns whether it ran in bf16.
template <typename Make>
bool RunForwardPrim(Cache<ForwardPrim>& cache, std::vector<int64_t> key, float* x, float* w, float* bias, float* y,
                    int64_t activation, float alpha, bool bf16, uint64_t xId, uint64_t wId, Make make) {
  AppendFusionKey(key, bias != nullptr, activation, alpha);
  key.push_back(bf16);
  ForwardPrim& f = cache.Get(key, make);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, ReadAs(f.srcDesc, f.x, x, xId)}, {DNNL_ARG_WEIGHTS, f.w.In(w, wId)}, {DNNL_ARG_DST, f.y.Into(y)},
                                       {DNNL_ARG_SCRATCHPAD, Scratchpad().For(f.scratchpadDesc)}};
  if (bias) {
    f.bias.set_data_handle(bias);
    args.emplace(DNNL_ARG_BIAS, f.bias);
  }
  {
    PhaseTimer t(Phases().compute);
    f.prim.execute(Stream(), args);
  }
  f.y.Flush();
  Stream().wait();
  return f.bf16;
}

}  // namespace conv
}  // namespace unet
