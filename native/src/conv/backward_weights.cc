// Conv2DBackpropFilter: dw[KH,KW,C,O] = sum over N,OH,OW of x[N,H,W,C] (x) dy[N,OH,OW,O], the
// gradient of a convolution with respect to its filter. oneDNN computes into its preferred weight
// layout, then a reorder writes TF.js's HWIO output.
// From JS: conv2dBackwardWeights(x, dy, dw, geometry: number[17], bf16?, xId?, dyId?); returns whether it ran
// in bf16 (bf16 x and dy, fp32 accumulation, dw fp32: the master weights' gradient). With Winograd (fp32 3x3, see
// WinogradPays) x and dy are read as blocked copies.
#include <exception>

#include "conv/dnnl_conv.h"
#include "conv/small_map_matmul.h"

namespace unet {
namespace conv {
namespace {

// bf16 backward-weights on a machine of at most 2 threads runs as one single-threaded primitive per thread, each
// on its share of the batch, and adds the shares' partial gradients. oneDNN 2.6's jit_bf16 kernel on 2 threads
// transposes x and dy and reduces per-thread partial weights with spin barriers between the threads: under load a
// thread descheduled at a barrier made it 3-10x slower (560 ms of a step against 57 ms on one thread), and on one
// thread it was 1.4x slower than fp32 on an idle machine. Split by batch, the threads meet once, at the end.
// The split is fixed by the batch and the thread count, so results repeat (resume stays exact).
// UNET_TRANSFER_BF16_WEIGHT_GRAD_THREADS=N instead runs one primitive with N oneDNN threads (for comparisons).
int Bf16WeightGradOverride() {
  static int n = [] {
    const char* e = std::getenv("UNET_TRANSFER_BF16_WEIGHT_GRAD_THREADS");
    return e ? std::max(0, std::atoi(e)) : 0;
  }();
  return n;
}

// Shares of the batch for bf16 (1 = one primitive, which then uses Bf16PrimitiveThreads()).
int64_t Bf16BatchShares(const Geometry& g) {
  if (Bf16WeightGradOverride() > 0 || ConfigureThreads() > 2) return 1;
  return std::min<int64_t>(ConfigureThreads(), g.n);
}

// Threads of an unsplit bf16 primitive: the override, else all of them on machines above 2 threads (not measured
// there), else 1.
int Bf16PrimitiveThreads() {
  if (Bf16WeightGradOverride() > 0) return Bf16WeightGradOverride();
  return ConfigureThreads() > 2 ? ConfigureThreads() : 1;
}

// Each thread's own stream and scratchpad (oneDNN streams are not shared between threads).
dnnl::stream& ShareStream(int t) {
  static dnnl::stream second(Engine());
  return t == 0 ? Stream() : second;
}
SharedScratchpad& ShareScratchpad(int t) {
  static SharedScratchpad second;
  return t == 0 ? Scratchpad() : second;
}

// One primitive over images [first, first + g.n) of the batch.
struct Share {
  dnnl::convolution_backward_weights prim;
  int64_t first;
  Geometry g;
  memory::desc scratchpadDesc;
  memory dw;  // shares after the first: their gradient, in the primitive's layout (the first writes dw itself)
};

struct BackwardWeights {
  std::vector<Share> shares;  // one, or (bf16 split) one per thread
  memory x, dy;
  Staged dw;
  bool bf16;
  memory::desc srcDesc, diffDstDesc;  // the layouts the primitive reads x and dy in (copies when not NHWC fp32)
};

dnnl::convolution_backward_weights::primitive_desc Describe(const Geometry& g, bool bf16) {
  const dt in = bf16 ? dt::bf16 : dt::f32;
  using Pd = dnnl::convolution_backward_weights::primitive_desc;
  return WithAlgorithm<Pd>(g, Pass::kBackwardWeights, bf16, [&](dnnl::algorithm a) {
    dnnl::convolution_backward_weights::desc d(a, ActivationDesc(g.X(in), a), g.WAny(), ActivationDesc(g.Y(in), a),
                                               g.Strides(), g.Dilations(), g.PadL(), g.PadR());
    return Pd(d, UserScratchpad(), Engine(), ForwardHint(g, bf16, a));
  });
}

BackwardWeights MakeBackwardWeights(const Geometry& g, bool bf16) {
  bool used = false;
  const int64_t shares = bf16 ? Bf16BatchShares(g) : 1;
  Geometry first = g;
  first.n = (g.n + shares - 1) / shares;
  // A split describes its first share to decide bf16 or fp32; every share then has the same weight layout.
  auto pd = Bf16OrFp32<dnnl::convolution_backward_weights::primitive_desc>(bf16, [&](bool b) {
    ThreadsScope threads(b ? Bf16PrimitiveThreads() : 0);  // the kernel splits its work at creation
    return Describe(b && shares > 1 ? first : g, b);
  }, &used);
  RecordImpl("Conv2DBackpropFilter", g.Key(), pd.impl_info_str(), used);
  auto unsplit = [&](const dnnl::convolution_backward_weights::primitive_desc& whole) {
    ThreadsScope threads(used ? Bf16PrimitiveThreads() : 0);
    return BackwardWeights{{Share{dnnl::convolution_backward_weights(whole), 0, g, whole.scratchpad_desc(), memory()}},
                           memory(g.X(), Engine(), nullptr), memory(g.Y(), Engine(), nullptr),
                           Staged(g.WUser(), whole.diff_weights_desc(), false), used, whole.src_desc(),
                           whole.diff_dst_desc()};
  };
  if (!used || shares == 1) return unsplit(pd);  // fp32: pd describes the whole batch
  ThreadsScope threads(1);
  std::vector<Share> parts;
  for (int64_t start = 0; start < g.n; start += first.n) {
    Geometry part = g;
    part.n = std::min(first.n, g.n - start);
    auto partPd = part.n == first.n ? pd : Describe(part, true);
    // the shares read slices of one bf16 NHWC tensor and write gradients that are added element by element
    if (partPd.diff_weights_desc() != pd.diff_weights_desc() || partPd.src_desc() != part.X(dt::bf16) ||
        partPd.diff_dst_desc() != part.Y(dt::bf16) || IsReference(partPd.impl_info_str()))
      return unsplit(Describe(g, true));
    parts.push_back(Share{dnnl::convolution_backward_weights(partPd), start, part, partPd.scratchpad_desc(),
                          start == 0 ? memory() : memory(pd.diff_weights_desc(), Engine())});
  }
  return BackwardWeights{std::move(parts), memory(g.X(), Engine(), nullptr), memory(g.Y(), Engine(), nullptr),
                         Staged(g.WUser(), pd.diff_weights_desc(), false), true, g.X(dt::bf16), g.Y(dt::bf16)};
}

// The bf16 shares, one per thread, then dw = the sum of their gradients (in share order): the first share writes
// b.dw.prim (the gradient in the primitive's layout), the others their own buffers, added into it.
void RunShares(BackwardWeights& b, const memory& src, const memory& diffDst) {
  const size_t n = b.shares.size();
  std::vector<memory> xs, dys, pads;
  for (size_t t = 0; t < n; t++) {
    const Share& s = b.shares[t];
    char* x = static_cast<char*>(src.get_data_handle()) + s.first * s.g.h * s.g.w * s.g.c * sizeof(uint16_t);
    char* dy = static_cast<char*>(diffDst.get_data_handle()) + s.first * s.g.oh * s.g.ow * s.g.o * sizeof(uint16_t);
    xs.emplace_back(s.g.X(dt::bf16), Engine(), x);
    dys.emplace_back(s.g.Y(dt::bf16), Engine(), dy);
    pads.push_back(ShareScratchpad(static_cast<int>(t)).For(s.scratchpadDesc));
  }
  std::vector<std::exception_ptr> errors(n);
#pragma omp parallel num_threads(static_cast<int>(n))
  for (size_t t = omp_get_thread_num(); t < n; t += omp_get_num_threads()) {
    try {
      Share& s = b.shares[t];
      s.prim.execute(ShareStream(static_cast<int>(t)), {{DNNL_ARG_SRC, xs[t]}, {DNNL_ARG_DIFF_DST, dys[t]},
                                                        {DNNL_ARG_DIFF_WEIGHTS, t == 0 ? b.dw.prim : s.dw},
                                                        {DNNL_ARG_SCRATCHPAD, pads[t]}});
      ShareStream(static_cast<int>(t)).wait();
    } catch (...) {
      errors[t] = std::current_exception();
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  float* sum = static_cast<float*>(b.dw.prim.get_data_handle());
  const int64_t count = static_cast<int64_t>(b.dw.prim.get_desc().get_size() / sizeof(float));
  for (size_t t = 1; t < n; t++) {
    const float* part = static_cast<const float*>(b.shares[t].dw.get_data_handle());
    for (int64_t i = 0; i < count; i++) sum[i] += part[i];
  }
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
    if (SmallMapMatmulPays(g, bf16)) return SmallMapBackwardWeights(g, x, dy, dw);
    std::vector<int64_t> key = g.Key();
    key.push_back(bf16);
    BackwardWeights& b = cache.Get(key, [&] { return MakeBackwardWeights(g, bf16); });
    const memory diffDst = ReadAs(b.diffDstDesc, b.dy, dy, dyId);
    const memory src = ReadAs(b.srcDesc, b.x, x, xId);
    ranBf16 = b.bf16;
    b.dw.Out(dw);
    if (b.shares.size() > 1) {
      PhaseTimer t(Phases().compute);
      RunShares(b, src, diffDst);
    } else {
      PhaseTimer t(Phases().compute);
      Share& s = b.shares[0];
      ThreadsScope threads(b.bf16 ? Bf16PrimitiveThreads() : 0);
      s.prim.execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, b.dw.prim},
                                {DNNL_ARG_SCRATCHPAD, Scratchpad().For(s.scratchpadDesc)}});
    }
    b.dw.Flush();
    Stream().wait();
  });
  return Napi::Boolean::New(info.Env(), ranBf16);
}
UNET_KERNEL("conv2dBackwardWeights", Conv2dBackwardWeights);

}  // namespace
}  // namespace conv
}  // namespace unet
