// Conv2DBackpropFilter: dw[KH,KW,C,O] = sum over N,OH,OW of x[N,H,W,C] (x) dy[N,OH,OW,O], the
// gradient of a convolution with respect to its filter. oneDNN computes into its preferred weight
// layout, then a reorder writes TF.js's HWIO output.
// From JS: conv2dBackwardWeights(x, dy, dw, geometry: number[17]).
#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {
namespace {

struct BackwardWeights {
  dnnl::convolution_backward_weights prim;
  memory x, dy;
  Staged dw;
};

BackwardWeights MakeBackwardWeights(const Geometry& g) {
  dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.X(), g.WAny(), g.Y(), g.Strides(),
                                             g.Dilations(), g.PadL(), g.PadR());
  dnnl::convolution_backward_weights::primitive_desc pd(d, Engine(), ForwardHint(g));
  return BackwardWeights{dnnl::convolution_backward_weights(pd), memory(g.X(), Engine(), nullptr),
                         memory(g.Y(), Engine(), nullptr), Staged(g.WUser(), pd.diff_weights_desc(), false)};
}

Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& info) {
  const char* kernel = "Conv2DBackpropFilter";
  Geometry g = Geometry::FromJs(info, 3);
  float* x = Tensor(info, 0, g.XSize(), kernel, "x");
  float* dy = Tensor(info, 1, g.YSize(), kernel, "dy");
  float* dw = Tensor(info, 2, g.WSize(), kernel, "dw");
  static Cache<BackwardWeights> cache;
  return Guarded(info, kernel, [&] {
    BackwardWeights& b = cache.Get(g.Key(), [&] { return MakeBackwardWeights(g); });
    b.x.set_data_handle(x);
    b.dy.set_data_handle(dy);
    b.dw.Out(dw);
    b.prim.execute(Stream(), {{DNNL_ARG_SRC, b.x}, {DNNL_ARG_DIFF_DST, b.dy}, {DNNL_ARG_DIFF_WEIGHTS, b.dw.prim}});
    b.dw.Flush();
    Stream().wait();
  });
}
UNET_KERNEL("conv2dBackwardWeights", Conv2dBackwardWeights);

}  // namespace
}  // namespace conv
}  // namespace unet
