// Conv2DBackpropFilter: dw[KH,KW,C,O] = sum over N,OH,OW of x[N,H,W,C] (x) dy[N,OH,OW,O], the
// gradient of a convolution with respect to its filter. oneDNN computes into its preferred weight
// layout, then a reorder writes TF.js's HWIO output.
// From JS: conv2dBackwardWeights(x, dy, dw, geometry: number[17], bf16?, xId?, dyId?); returns whether it ran
// in bf16 (bf16 x and dy, fp32 accumulation, dw fp32: the master weights' gradient).
#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {
namespace {

struct BackwardWeights {
  dnnl::convolution_backward_weights prim;
  memory x, dy;
  Staged dw;
  bool bf16;
  memory::desc srcDesc, diffDstDesc;  // bf16: the layouts the primitive reads x and dy in
  memory::desc scratchpadDesc;
};

// Threads of the bf16 backward-weights primitives. oneDNN 2.6's jit_bf16 kernel transposes x and dy and reduces
// per-thread partial weights, with spin barriers between the threads; on this 2-core VM two threads were no faster
// than one even at their best, and under load (a thread descheduled at a barrier) 3-10x slower. So 1 where the
// engine runs at most 2 threads, otherwise all of them (not measured there);
// UNET_TRANSFER_BF16_WEIGHT_GRAD_THREADS=N overrides.
int Bf16WeightGradThreads() {
  static int n = [] {
    if (const char* e = std::getenv("UNET_TRANSFER_BF16_WEIGHT_GRAD_THREADS")) {
      const int v = std::atoi(e);
      if (v > 0) return v;
    }
    return ConfigureThreads() <= 2 ? 1 : ConfigureThreads();
  }();
  return n;
}

BackwardWeights MakeBackwardWeights(const Geometry& g, bool bf16) {
  bool used = false;
  auto pd = Bf16OrFp32<dnnl::convolution_backward_weights::primitive_desc>(bf16, [&](bool b) {
    ThreadsScope threads(b ? Bf16WeightGradThreads() : 0);  // the kernel splits its work at creation
    const dt in = b ? dt::bf16 : dt::f32;
    dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.X(in), g.WAny(), g.Y(in),
                                               g.Strides(), g.Dilations(), g.PadL(), g.PadR());
    return dnnl::convolution_backward_weights::primitive_desc(d, UserScratchpad(), Engine(), ForwardHint(g, b));
  }, &used);
  RecordImpl("Conv2DBackpropFilter", g.Key(), pd.impl_info_str(), used);
  ThreadsScope threads(used ? Bf16WeightGradThreads() : 0);
  return BackwardWeights{dnnl::convolution_backward_weights(pd), memory(g.X(), Engine(), nullptr),
                         memory(g.Y(), Engine(), nullptr), Staged(g.WUser(), pd.diff_weights_desc(), false), used, pd.src_desc(), pd.diff_dst_desc(), pd.scratchpad_desc()};
}

Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& info) {
  const char* kernel = "Conv2DBackpropFilter";
  Geometry g = Geometry::FromJs(info, 3);
  float* x = Tensor(info, 0, g.XSize(), kernel, "x");
  float* dy = Tensor(info, 1, g.YSize(), kernel, "dy");
  float* dw = Tensor(info, 2, g.WSize(), kernel, "dw");
  const bool bf16 = info.Length() > 4 && Bool(info, 4);
  const uint64_t xId = Id(info, 5), dyId = Id(info, 6);
  static Cache<BackwardWeights> cache;
  bool ranBf16 = false;
  Guarded(info, kernel, [&] {
    std::vector<int64_t> key = g.Key();
    key.push_back(bf16);
    BackwardWeights& b = cache.Get(key, [&] { return MakeBackwardWeights(g, bf16); });
    memory src = b.x, diffDst = b.dy;
    if (b.bf16) {
      diffDst = Activations().Get(g.Y(), b.diffDstDesc, dy, dyId);
      src = Activations().Get(g.X(), b.srcDesc, x, xId);
    } else {
      b.x.set_data_handle(x);
      b.dy.set_data_handle(dy);
    }
    ranBf16 = b.bf16;
    b.dw.Out(dw);
    ThreadsScope threads(b.bf16 ? Bf16WeightGradThreads() : 0);
    b.prim.execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, b.dw.prim},
                              {DNNL_ARG_SCRATCHPAD, Scratchpad().For(b.scratchpadDesc)}});
    b.dw.Flush();
    Stream().wait();
  });
  return Napi::Boolean::New(info.Env(), ranBf16);
}
UNET_KERNEL("conv2dBackwardWeights", Conv2dBackwardWeights);

}  // namespace
}  // namespace conv
}  // namespace unet
