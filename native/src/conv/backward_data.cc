// Conv2DBackpropInput: dx[N,H,W,C] = dy[N,OH,OW,O] (*)^T w[KH,KW,C,O], the gradient of a
// convolution with respect to its input, and also the forward pass of conv2dTranspose (there dy is
// the layer's input and dx its output).
// From JS: conv2dBackwardData(dy, w, dx, geometry: number[17], bf16?, dyId?, wId?); returns whether it ran
// in bf16 (bf16 dy and w, fp32 accumulation, dx fp32). With Winograd (fp32 3x3, see WinogradPays) dy is read as
// a blocked copy and dx written blocked, then copied to NHWC.
#include "conv/dnnl_conv.h"
#include "conv/small_map_matmul.h"

namespace unet {
namespace conv {
namespace {

struct BackwardData {
  dnnl::convolution_backward_data prim;
  memory dy;
  Staged w;
  ActivationOut dx;
  bool bf16;
  memory::desc diffDstDesc;  // the layout the primitive reads dy in (a copy when it is not dy's NHWC)
  memory::desc scratchpadDesc;
};

BackwardData MakeBackwardData(const Geometry& g, bool bf16) {
  bool used = false;
  auto pd = Bf16OrFp32<dnnl::convolution_backward_data::primitive_desc>(bf16, [&](bool b) {
    const dt in = b ? dt::bf16 : dt::f32;
    return WithAlgorithm<dnnl::convolution_backward_data::primitive_desc>(g, Pass::kBackwardData, b, [&](dnnl::algorithm a) {
      dnnl::convolution_backward_data::desc d(a, ActivationDesc(g.X(), a), g.WAny(in), ActivationDesc(g.Y(in), a),
                                              g.Strides(), g.Dilations(), g.PadL(), g.PadR());
      return dnnl::convolution_backward_data::primitive_desc(d, UserScratchpad(), Engine(), ForwardHint(g, b, a));
    });
  }, &used);
  RecordImpl("Conv2DBackpropInput", g.Key(), pd.impl_info_str(), used);
  return BackwardData{dnnl::convolution_backward_data(pd),
                      memory(g.Y(), Engine(), nullptr),
                      Staged(g.WUser(), pd.weights_desc(), true, IsWinograd(pd.impl_info_str())),
                      ActivationOut(g.X(), pd.diff_src_desc()),
                      used,
                      pd.diff_dst_desc(),
                      pd.scratchpad_desc()};
}

Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  const char* kernel = "Conv2DBackpropInput";
  Geometry g = Geometry::FromJs(info, 3);
  float* dy = Tensor(info, 0, g.YSize(), kernel, "dy");
  float* w = Tensor(info, 1, g.WSize(), kernel, "filter");
  float* dx = Tensor(info, 2, g.XSize(), kernel, "dx");
  const bool bf16 = info.Length() > 4 && Bool(info, 4);
  const uint64_t dyId = Id(info, 5), wId = Id(info, 6);
  static Cache<BackwardData> cache;
  bool ranBf16 = false;
  Guarded(info, kernel, [&] {
    if (SmallMapMatmulPays(g, bf16)) return SmallMapBackwardData(g, dy, w, dx);
    std::vector<int64_t> key = g.Key();
    key.push_back(bf16);
    BackwardData& b = cache.Get(key, [&] { return MakeBackwardData(g, bf16); });
    const memory weights = b.w.In(w, wId);
    const memory diffDst = ReadAs(b.diffDstDesc, b.dy, dy, dyId);
    ranBf16 = b.bf16;
    {
      PhaseTimer t(Phases().compute);
      b.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, b.dx.Into(dx)},
                                {DNNL_ARG_SCRATCHPAD, Scratchpad().For(b.scratchpadDesc)}});
    }
    b.dx.Flush();
    Stream().wait();
  });
  return Napi::Boolean::New(info.Env(), ranBf16);
}
UNET_KERNEL("conv2dBackwardData", Conv2dBackwardData);

}  // namespace
}  // namespace conv
}  // namespace unet
