// Depthwise convolution (tf.depthwiseConv2d) as a oneDNN grouped convolution with one group per input
// channel: x[N,H,W,C] * w[KH,KW,C,M] -> y[N,OH,OW,C*M], output channel c*M + m from input channel c (TF's
// order, which is oneDNN's group-major order too). Forward (optionally with bias and activation, as in
// forward.cc), and both gradients:
//   depthwiseForward(x, w, bias | null, y, geometry: number[17], M, activation, alpha)
//   depthwiseBackwardData(dy, w, dx, geometry, M)        dx[N,H,W,C]
//   depthwiseBackwardWeights(x, dy, dw, geometry, M)     dw[KH,KW,C,M]
// The geometry is forward.cc's with O = C*M. TF.js's filter [KH,KW,C,M] is described to oneDNN by strides
// over its logical (G=C, O=M, I=1, KH, KW) dims; primitives pick their own weight layout (format any),
// with a reorder per call, as the dense convolutions do.
#include "conv/forward_prim.h"

namespace unet {
namespace conv {
namespace {

memory::dims GroupedDims(const Geometry& g, int64_t m) { return {g.c, m, 1, g.kh, g.kw}; }

// [KH,KW,C,M] row-major as (G, O, I, KH, KW).
memory::desc GroupedUser(const Geometry& g, int64_t m) {
  return memory::desc(GroupedDims(g, m), dt::f32, memory::dims{m, 1, 1, g.kw * g.c * m, g.c * m});
}
memory::desc GroupedAny(const Geometry& g, int64_t m) { return memory::desc(GroupedDims(g, m), dt::f32, tag::any); }

dnnl::convolution_forward::primitive_desc GroupedForwardHint(const Geometry& g, int64_t m) {
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, g.X(),
                                    GroupedAny(g, m), g.Y(), g.Strides(), g.Dilations(), g.PadL(), g.PadR());
  return dnnl::convolution_forward::primitive_desc(d, Engine());
}

// Reads the geometry at argument i and the multiplier at i + 1, and checks that O = C * M.
std::pair<Geometry, int64_t> DepthwiseGeometry(const Napi::CallbackInfo& info, size_t i) {
  Geometry g = Geometry::FromJs(info, i);
  const int64_t m = Int(info, i + 1);
  Check(m >= 1 && g.o == g.c * m, info.Env(), "depthwise geometry: output channels must be C * multiplier");
  return {g, m};
}

std::vector<int64_t> KeyOf(const Geometry& g, int64_t m) {
  std::vector<int64_t> key = g.Key();
  key.push_back(m);
  return key;
}

Napi::Value DepthwiseForward(const Napi::CallbackInfo& info) {
  const char* kernel = "DepthwiseConv2dNative";
  auto [g, m] = DepthwiseGeometry(info, 4);
  float* x = Tensor(info, 0, g.XSize(), kernel, "x");
  float* w = Tensor(info, 1, g.kh * g.kw * g.o, kernel, "filter");
  const bool hasBias = !info[2].IsNull() && !info[2].IsUndefined();
  float* bias = hasBias ? Tensor(info, 2, g.o, kernel, "bias") : nullptr;
  float* y = Tensor(info, 3, g.YSize(), kernel, "y");
  const int64_t activation = Int(info, 6);
  const float alpha = static_cast<float>(Num(info, 7));
  Check(activation >= 0 && activation <= 5, info.Env(), "depthwiseForward: unknown activation");
  static Cache<ForwardPrim> cache;
  return Guarded(info, hasBias || activation ? "FusedDepthwiseConv2D" : kernel, [&] {
    RunForwardPrim(cache, KeyOf(g, m), x, w, bias, y, activation, alpha, false, 0, 0, [&] {
      return MakeForwardPrim(g, GroupedUser(g, m), GroupedAny(g, m), hasBias, activation, alpha, false, kernel);
    });
  });
}
UNET_KERNEL("depthwiseForward", DepthwiseForward);

struct BackwardData {
  dnnl::convolution_backward_data prim;
  memory dy, dx;
  Staged w;
};

Napi::Value DepthwiseBackwardData(const Napi::CallbackInfo& info) {
  const char* kernel = "DepthwiseConv2dNativeBackpropInput";
  auto [g, m] = DepthwiseGeometry(info, 3);
  float* dy = Tensor(info, 0, g.YSize(), kernel, "dy");
  float* w = Tensor(info, 1, g.kh * g.kw * g.o, kernel, "filter");
  float* dx = Tensor(info, 2, g.XSize(), kernel, "dx");
  static Cache<BackwardData> cache;
  return Guarded(info, kernel, [&] {
    BackwardData& b = cache.Get(KeyOf(g, m), [&] {
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.X(), GroupedAny(g, m), g.Y(),
                                              g.Strides(), g.Dilations(), g.PadL(), g.PadR());
      const auto pd = WithoutGemm(dnnl::convolution_backward_data::primitive_desc(d, Engine(), GroupedForwardHint(g, m)));
      return BackwardData{dnnl::convolution_backward_data(pd), memory(g.Y(), Engine(), nullptr),
                          memory(g.X(), Engine(), nullptr), Staged(GroupedUser(g, m), pd.weights_desc(), true)};
    });
    const memory weights = b.w.In(w);
    b.dy.set_data_handle(dy);
    b.dx.set_data_handle(dx);
    PhaseTimer t(Phases().compute);
    b.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, b.dy}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, b.dx}});
    Stream().wait();
  });
}
UNET_KERNEL("depthwiseBackwardData", DepthwiseBackwardData);

struct BackwardWeights {
  dnnl::convolution_backward_weights prim;
  memory x, dy;
  Staged dw;
};

Napi::Value DepthwiseBackwardWeights(const Napi::CallbackInfo& info) {
  const char* kernel = "DepthwiseConv2dNativeBackpropFilter";
  auto [g, m] = DepthwiseGeometry(info, 3);
  float* x = Tensor(info, 0, g.XSize(), kernel, "x");
  float* dy = Tensor(info, 1, g.YSize(), kernel, "dy");
  float* dw = Tensor(info, 2, g.kh * g.kw * g.o, kernel, "dw");
  static Cache<BackwardWeights> cache;
  return Guarded(info, kernel, [&] {
    BackwardWeights& b = cache.Get(KeyOf(g, m), [&] {
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.X(), GroupedAny(g, m), g.Y(),
                                                 g.Strides(), g.Dilations(), g.PadL(), g.PadR());
      const auto pd = WithoutGemm(dnnl::convolution_backward_weights::primitive_desc(d, Engine(), GroupedForwardHint(g, m)));
      return BackwardWeights{dnnl::convolution_backward_weights(pd), memory(g.X(), Engine(), nullptr),
                             memory(g.Y(), Engine(), nullptr), Staged(GroupedUser(g, m), pd.diff_weights_desc(), false)};
    });
    b.x.set_data_handle(x);
    b.dy.set_data_handle(dy);
    b.dw.Out(dw);
    {
      PhaseTimer t(Phases().compute);
      b.prim.execute(Stream(), {{DNNL_ARG_SRC, b.x}, {DNNL_ARG_DIFF_DST, b.dy}, {DNNL_ARG_DIFF_WEIGHTS, b.dw.prim}});
    }
    b.dw.Flush();
    Stream().wait();
  });
}
UNET_KERNEL("depthwiseBackwardWeights", DepthwiseBackwardWeights);

}  // namespace
}  // namespace conv
}  // namespace unet
