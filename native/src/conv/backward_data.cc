// Conv2DBackpropInput: dx[N,H,W,C] = dy[N,OH,OW,O] (*)^T w[KH,KW,C,O], the gradient of a
// convolution with respect to its input, and also the forward pass of conv2dTranspose (there dy is
// the layer's input and dx its output).
// From JS: conv2dBackwardData(dy, w, dx, geometry: number[17]).
#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {
namespace {

struct BackwardData {
  dnnl::convolution_backward_data prim;
  memory dy, dx;
  Staged w;
};

BackwardData MakeBackwardData(const Geometry& g) {
  dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.X(), g.WAny(), g.Y(), g.Strides(),
                                          g.Dilations(), g.PadL(), g.PadR());
  dnnl::convolution_backward_data::primitive_desc pd(d, Engine(), ForwardHint(g));
  return BackwardData{dnnl::convolution_backward_data(pd), memory(g.Y(), Engine(), nullptr),
                      memory(g.X(), Engine(), nullptr), Staged(g.WUser(), pd.weights_desc(), true)};
}

Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  const char* kernel = "Conv2DBackpropInput";
  Geometry g = Geometry::FromJs(info, 3);
  float* dy = Tensor(info, 0, g.YSize(), kernel, "dy");
  float* w = Tensor(info, 1, g.WSize(), kernel, "filter");
  float* dx = Tensor(info, 2, g.XSize(), kernel, "dx");
  static Cache<BackwardData> cache;
  return Guarded(info, kernel, [&] {
    BackwardData& b = cache.Get(g.Key(), [&] { return MakeBackwardData(g); });
    b.w.In(w);
    b.dy.set_data_handle(dy);
    b.dx.set_data_handle(dx);
    b.prim.execute(Stream(), {{DNNL_ARG_DIFF_DST, b.dy}, {DNNL_ARG_WEIGHTS, b.w.prim}, {DNNL_ARG_DIFF_SRC, b.dx}});
    Stream().wait();
  });
}
UNET_KERNEL("conv2dBackwardData", Conv2dBackwardData);

}  // namespace
}  // namespace conv
}  // namespace unet
