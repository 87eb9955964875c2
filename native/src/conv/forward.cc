// Conv2D / FusedConv2D forward: y[N,OH,OW,O] = act(x[N,H,W,C] * w[KH,KW,C,O] + bias[O]).
// From JS: conv2dForward(x, w, bias: Float32Array | null, y, geometry: number[17], activation, alpha,
// bf16?, xId?, wId?) with activation 0 linear, 1 relu, 2 relu6, 3 leakyrelu (alpha), 4 sigmoid, 5 elu;
// returns whether it ran in bf16 (bf16 x and w, fp32 accumulation, bias and y fp32).
// Bias and activation are fused into the primitive (bias and an eltwise post-op).
#include "conv/forward_prim.h"
#include "conv/small_map_matmul.h"

namespace unet {
namespace conv {
namespace {

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
  static Cache<ForwardPrim> cache;
  bool ranBf16 = false;
  Guarded(info, hasBias || activation ? "FusedConv2D" : kernel, [&] {
    if (SmallMapMatmulPays(g, bf16)) return SmallMapForward(g, x, w, bias, y, activation, alpha);
    ranBf16 = RunForwardPrim(cache, g.Key(), x, w, bias, y, activation, alpha, bf16, xId, wId, [&] {
      return MakeForwardPrim(g, g.WUser(), g.WAny(), hasBias, activation, alpha, bf16, kernel);
    });
  });
  return Napi::Boolean::New(info.Env(), ranBf16);
}
UNET_KERNEL("conv2dForward", Conv2dForward);

}  // namespace
}  // namespace conv
}  // namespace unet
