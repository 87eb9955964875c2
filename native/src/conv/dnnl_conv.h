// Shared pieces of the conv family: one oneDNN engine + stream per process, the convolution's
// geometry as passed from JavaScript, memory descriptors in TF.js's layouts, and a primitive cache.
//
// Layouts: activations stay in NHWC (the tensors' real layout, no copies); TF.js filters are HWIO
// ([kh, kw, in, out]). Primitives are created with weights in format_tag::any so that oneDNN picks
// its preferred (blocked) weight layout: about twice as fast here as plain HWIO. The weights are
// reordered into that layout on every call (they change at every training step, and are small next
// to the activations).
//
// Mixed precision (bf16): the same primitives with bf16 src/weights/diff_dst and fp32 accumulation; the
// outputs (dst, diff_src, diff_weights) stay fp32, so everything around the convolutions (BN, loss,
// optimizer) sees fp32 tensors. Inputs are converted by oneDNN reorders: the weights into the primitive's
// blocked layout, cached per primitive by the tensor's identity (an id from JavaScript: TF.js tensors are
// immutable, so the same id means the same values and an optimizer update means a new id); activations into
// bf16 NHWC, the last few conversions kept by id so that dz, read by both gradients, is converted once.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace unet {
namespace conv {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

inline dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

inline dnnl::stream& Stream() {
  static dnnl::stream stream(Engine());
  return stream;
}

// One call at a time: cached primitives keep their memory objects (whose data handles are set per
// call), and Node worker threads share this module's statics.
inline std::mutex& Lock() {
  static std::mutex m;
  return m;
}

// The geometry of a 2-D convolution x[N,H,W,C] * w[KH,KW,C,O] -> y[N,OH,OW,O], as computed by
// tfjs-core's computeConv2DInfo. Dilations follow TF (1 = dense); the bottom/right paddings are
// those that make oneDNN's OH = floor((H + PT + PB - KH_eff) / SH) + 1 hold (geometry.ts).
struct Geometry {
  int64_t n, h, w, c, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr;

  static constexpr size_t kFields = 17;

  static Geometry FromJs(const Napi::CallbackInfo& info, size_t i) {
    std::vector<int64_t> g = Ints(info, i);
    Check(g.size() == kFields, info.Env(), "conv geometry: expected " + std::to_string(kFields) + " numbers");
    Geometry r;
    std::memcpy(&r, g.data(), sizeof(r));
    for (int64_t v : g) Check(v >= 0, info.Env(), "conv geometry: negative value");
    Check(r.sh > 0 && r.sw > 0 && r.dh > 0 && r.dw > 0, info.Env(), "conv geometry: strides and dilations must be positive");
    return r;
  }

  std::vector<int64_t> Key() const {
    const int64_t* p = &n;
    return std::vector<int64_t>(p, p + kFields);
  }

  int64_t XSize() const { return n * h * w * c; }
  int64_t YSize() const { return n * oh * ow * o; }
  int64_t WSize() const { return kh * kw * c * o; }

  // oneDNN's logical dims are N,C,H,W and O,I,H,W whatever the physical layout.
  memory::desc X(dt type = dt::f32) const { return memory::desc({n, c, h, w}, type, tag::nhwc); }
  memory::desc Y(dt type = dt::f32) const { return memory::desc({n, o, oh, ow}, type, tag::nhwc); }
  memory::desc WUser() const { return memory::desc({o, c, kh, kw}, dt::f32, tag::hwio); }
  memory::desc WAny(dt type = dt::f32) const { return memory::desc({o, c, kh, kw}, type, tag::any); }
  memory::dims Strides() const { return {sh, sw}; }
  memory::dims Dilations() const { return {dh - 1, dw - 1}; }  // oneDNN: 0 = dense
  memory::dims PadL() const { return {pt, pl}; }
  memory::dims PadR() const { return {pb, pr}; }
};
static_assert(sizeof(Geometry) == Geometry::kFields * sizeof(int64_t), "Geometry is filled by memcpy");

// One scratchpad for every conv primitive (they run one at a time, under Lock()). oneDNN 2.6's own
// ("library") scratchpad is allocated when an execution starts and freed when it ends, and fresh memory
// costs page faults on this kind of VM (see buffer_pool.ts); the bf16 backward-weights primitives keep
// transposed copies of x and dy there. The buffer only grows, and is touched once when it does.
class SharedScratchpad {
 public:
  memory For(const memory::desc& desc) {
    const size_t size = desc.get_size();
    if (size > size_) {
      buffer_.reset(static_cast<char*>(std::aligned_alloc(4096, (size + 4095) / 4096 * 4096)));
      if (!buffer_) throw dnnl::error(dnnl_out_of_memory, "conv scratchpad");
      std::memset(buffer_.get(), 0, size);
      size_ = size;
    }
    return memory(desc, Engine(), size ? buffer_.get() : nullptr);
  }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> buffer_;
  size_t size_ = 0;
};

inline SharedScratchpad& Scratchpad() {
  static SharedScratchpad s;
  return s;
}

// Primitive attributes with a user-provided scratchpad (SharedScratchpad).
inline dnnl::primitive_attr UserScratchpad(dnnl::primitive_attr attr = dnnl::primitive_attr()) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Winograd F(4x4, 3x3) (oneDNN's jit_wino_4x3, fp32 on AVX-512) does a quarter of the multiplications of a 3x3
// stride-1 convolution, for the price of transforms and of activations in a blocked layout (nChw16c: copied in and
// out of NHWC around each call, the copies counted as activation time). Measured per pass on resnet34's and the
// decoders' shapes (batch 8, Zen 5, 2 threads, copies included) it is 1.1-2x faster where both channel counts are
// at least 32 (64 for the weight gradient) and the batch has at least 32 tiles of 4x4 outputs; below that (16
// channels at full resolution, 4x4 maps) direct convolution wins. The choice depends only on the geometry, so
// results repeat from run to run. UNET_TRANSFER_WINOGRAD=0 turns it off (comparisons, and a check of the rule).
enum class Pass { kForward, kBackwardData, kBackwardWeights };

// Whether an engine switch is on: every switch is on unless its environment variable is "0".
inline bool SwitchedOn(const char* variable) {
  const char* e = std::getenv(variable);
  return !(e && std::string(e) == "0");
}

inline bool WinogradPays(const Geometry& g, Pass pass) {
  static const bool allowed = SwitchedOn("UNET_TRANSFER_WINOGRAD");
  if (!allowed) return false;
  const bool shape = g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.pt == 1 &&
                     g.pl == 1 && g.pb == 1 && g.pr == 1 && g.c % 16 == 0 && g.o % 16 == 0;
  const int64_t tiles = g.n * ((g.oh + 3) / 4) * ((g.ow + 3) / 4);
  const int64_t minChannels = pass == Pass::kBackwardWeights ? 64 : 32;
  const int64_t bytes = 4 * g.n * g.oh * g.ow * std::max(g.c, g.o);  // the larger activation
  return shape && tiles >= 32 && std::min(g.c, g.o) >= minChannels && bytes <= (8 << 20);
}

// The algorithm to describe a primitive with; directOnly: bf16 (oneDNN 2.6 has no bf16 Winograd) or grouped
// (depthwise) weights.
inline dnnl::algorithm AlgorithmFor(const Geometry& g, Pass pass, bool directOnly) {
  return !directOnly && WinogradPays(g, pass) ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct;
}

inline bool IsWinograd(const std::string& impl) { return impl.find("wino") != std::string::npos; }

// An activation's descriptor for a primitive of that algorithm: NHWC for direct, oneDNN's choice (blocked) for
// Winograd.
inline memory::desc ActivationDesc(const memory::desc& nhwc, dnnl::algorithm algorithm) {
  return algorithm == dnnl::algorithm::convolution_winograd ? memory::desc(nhwc.dims(), nhwc.data_type(), tag::any)
                                                            : nhwc;
}

// oneDNN's reference implementations ("ref:any", "gemm:ref") are correct but tens of times slower than its
// jit ones; a bf16 primitive that only has those (e.g. 3 input channels on some CPUs) runs in fp32 instead.
inline bool IsReference(const std::string& impl) { return impl.rfind("ref", 0) == 0 || impl.find(":ref") != std::string::npos; }

// Winograd's workspace (transformed tiles and weights, per thread) lives in the shared scratchpad, which keeps its
// largest size: a primitive that would need more than this runs direct instead (resnet34's 768 -> 256 weight
// gradient asks 98 MB; the others 7-40 MB).
constexpr size_t kMaxWinogradScratchpad = 40u << 20;

// oneDNN 2.6's GEMM-based convolutions ("gemm:jit") can corrupt the malloc heap: resnet18/34 and mobilenetv2
// steps, whose 4x4 and 2x2 maps got gemm:jit for their forward with HWIO weights, aborted with "corrupted size vs.
// prev_size" inside oneDNN whenever the heap's layout changed (node --cpu-prof, test/engine/conv_heap.test.ts); the
// output and scratchpad stayed within bounds, so the overflow is in the GEMM's own buffers (oneDNN v3.11.2 lists a
// fix for "a potential heap corruption in f32 GEMM kernels on x64 CPUs"; its bf16 GEMMs share the driver, so they are
// avoided too). A primitive descriptor that lands on one moves on to oneDNN's next implementation that is neither a
// GEMM nor a reference kernel; only when there is none does it keep the first. brgconv (batch-reduce GEMM) is a
// different kernel and stays.
inline bool IsGemm(const std::string& impl) { return impl.find("gemm") != std::string::npos && impl.find("brg") == std::string::npos; }

// pd moved on to oneDNN's next implementation whose name `accept`s, or pd itself when none does.
template <typename Pd, typename Accept>
Pd NextImplWhere(Pd pd, Accept accept) {
  const Pd first = pd;
  while (pd.next_impl())
    if (accept(std::string(pd.impl_info_str()))) return pd;
  return first;
}

template <typename Pd>
Pd WithoutGemm(Pd pd) {
  if (!IsGemm(pd.impl_info_str())) return pd;
  return NextImplWhere(pd, [](const std::string& impl) { return !IsGemm(impl) && !IsReference(impl); });
}

// fp32 forward passes with output maps of at most 4x4 (a ResNet's last stage at 128x128 and below): oneDNN's first choice,
// brgconv, is 1.5-2.5x slower there than its plain jit direct kernel (batch 8, 512 -> 512, Zen 5, 2 threads: 2.5 vs
// 1.7 ms at 4x4, 1.0 vs 0.4 ms at 2x2; from 8x8 up brgconv is as fast or faster), so such a primitive moves on to
// the next jit implementation when oneDNN has one.
inline bool SmallMap(const Geometry& g) { return g.oh * g.ow <= 16; }

template <typename Pd>
Pd DirectJitForSmallMaps(Pd pd, const Geometry& g) {
  if (!SmallMap(g) || std::string(pd.impl_info_str()).rfind("brg", 0) != 0) return pd;
  return NextImplWhere(pd, [](const std::string& impl) { return impl.rfind("jit:avx512", 0) == 0; });
}

// Describes a primitive with make(algorithm): Winograd where it pays and oneDNN has it (else direct), never a GEMM
// where oneDNN has something else.
template <typename Pd, typename Make>
Pd WithAlgorithm(const Geometry& g, Pass pass, bool directOnly, Make make) {
  const dnnl::algorithm algorithm = AlgorithmFor(g, pass, directOnly);
  if (algorithm == dnnl::algorithm::convolution_winograd) {
    try {
      Pd pd = make(algorithm);
      if (pd.scratchpad_desc().get_size() <= kMaxWinogradScratchpad) return pd;
    } catch (const dnnl::error&) {
      // not implemented for these sizes or this CPU: direct below
    }
  }
  return WithoutGemm(make(dnnl::algorithm::convolution_direct));
}

// The forward descriptor that backward primitives need as a hint (bf16: bf16 src and weights, fp32 dst), with
// the algorithm and activation layouts of the backward primitive it is for.
inline dnnl::convolution_forward::primitive_desc ForwardHint(const Geometry& g, bool bf16 = false,
                                                             dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct) {
  const dt in = bf16 ? dt::bf16 : dt::f32;
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, algorithm, ActivationDesc(g.X(in), algorithm),
                                    g.WAny(in), ActivationDesc(g.Y(), algorithm), g.Strides(), g.Dilations(), g.PadL(),
                                    g.PadR());
  return dnnl::convolution_forward::primitive_desc(d, UserScratchpad(), Engine());
}

// Which implementations the conv kernels created (kernel, geometry, impl, bf16), for benchmarks and tests.
struct ImplRecord {
  std::string kernel;
  std::vector<int64_t> key;
  std::string impl;
  bool bf16;
};
inline std::vector<ImplRecord>& Implementations() {
  static std::vector<ImplRecord> records;
  return records;
}
inline void RecordImpl(const char* kernel, const std::vector<int64_t>& key, const std::string& impl, bool bf16) {
  if (Implementations().size() < 1024) Implementations().push_back({kernel, key, impl, bf16});
}

// Where the conv kernels' time goes, summed since the last reset (conv2dPhaseTimes; bench reports it per step):
// the primitives themselves, the fp32 -> bf16 copies of activations, the weights' reorders into the primitives'
// layouts, and the weight gradients' reorders back to HWIO. oneDNN's CPU executions are synchronous, so a clock
// around each call measures it.
struct PhaseTimes {
  double compute = 0, activations = 0, weights = 0, gradients = 0;  // milliseconds
};
inline PhaseTimes& Phases() {
  static PhaseTimes p;
  return p;
}
class PhaseTimer {
 public:
  explicit PhaseTimer(double& into) : into_(into), start_(std::chrono::steady_clock::now()) {}
  ~PhaseTimer() { into_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count(); }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  double& into_;
  std::chrono::steady_clock::time_point start_;
};

// Builds a primitive descriptor in bf16 when asked and oneDNN has a non-reference bf16 implementation for it,
// else in fp32. make(bf16) returns the primitive descriptor; *usedBf16 says which one came back.
template <typename Pd, typename Make>
Pd Bf16OrFp32(bool bf16, Make make, bool* usedBf16) {
  if (bf16) {
    try {
      Pd pd = make(true);
      if (!IsReference(pd.impl_info_str())) {
        *usedBf16 = true;
        return pd;
      }
    } catch (const dnnl::error&) {
      // no bf16 implementation at all: fp32 below
    }
  }
  *usedBf16 = false;
  return make(false);
}

// The activation codes of conv2dForward / depthwiseForward as a oneDNN post-op: 0 linear, 1 relu, 2 relu6,
// 3 leakyrelu (alpha), 4 sigmoid, 5 elu.
inline void AppendActivation(dnnl::post_ops& po, int64_t activation, float alpha) {
  using dnnl::algorithm;
  switch (activation) {
    case 0: return;
    case 1: po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); return;
    case 2: po.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f); return;
    case 3: po.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); return;
    case 4: po.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); return;
    case 5: po.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); return;
  }
}

// Appends what a fused forward primitive depends on beyond its geometry: bias or not, the activation and, for
// leakyrelu, alpha's bits.
inline void AppendFusionKey(std::vector<int64_t>& key, bool hasBias, int64_t activation, float alpha) {
  uint32_t alphaBits = 0;
  if (activation == 3) std::memcpy(&alphaBits, &alpha, sizeof(alpha));
  key.insert(key.end(), {hasBias, activation, alphaBits});
}

struct KeyHash {
  size_t operator()(const std::vector<int64_t>& k) const {
    size_t h = 1469598103934665603ull;
    for (int64_t v : k) h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
    return h;
  }
};

// Primitives (and their reorders) keyed by geometry and options. A training run sees a few dozen
// shapes; the cap only guards against a pathological stream of distinct shapes.
template <typename Entry>
class Cache {
 public:
  template <typename Make>
  Entry& Get(const std::vector<int64_t>& key, Make make) {
    auto it = map_.find(key);
    if (it != map_.end()) return *it->second;
    if (map_.size() >= 256) map_.clear();
    return *map_.emplace(key, std::make_unique<Entry>(make())).first->second;
  }

 private:
  std::unordered_map<std::vector<int64_t>, std::unique_ptr<Entry>, KeyHash> map_;
};

// Copies of fp32 tensors in the layout a primitive reads, the last few kept by tensor id (TF.js tensors are immutable:
// the same id means the same values). At most `perShape` buffers per (layout, copy layout) pair, reused (fresh memory
// costs page faults here): first one whose copy was read again since, then the least recently used; the conversions
// are timed as `phase`.
class CopiesById {
 public:
  CopiesById(int perShape, size_t maxSlots, double PhaseTimes::*phase) : perShape_(perShape), maxSlots_(maxSlots), phase_(phase) {}

  // The copy of the fp32 tensor `data` (laid out as f32Desc) in copyDesc (id 0: unknown identity, always converted).
  memory Get(const memory::desc& f32Desc, const memory::desc& copyDesc, float* data, uint64_t id) {
    Slot* hit = nullptr;
    Slot* victim = nullptr;  // the least recently used slot, one already read again (a hit) first
    int sameShape = 0;
    for (auto& s : slots_) {
      if (s->f32Desc != f32Desc || s->copyDesc != copyDesc) continue;
      sameShape++;
      if (id != 0 && s->id == id) hit = s.get();
      if (!victim || s->reread > victim->reread || (s->reread == victim->reread && s->used < victim->used)) victim = s.get();
    }
    clock_++;
    if (hit) {
      hit->used = clock_;
      hit->reread = true;
      return hit->copy;
    }
    // A new buffer only while every one of this shape still waits for its second reader (a step's forward pass
    // holds one per layer until backward-data), up to perShape.
    if (sameShape < perShape_ && !(victim && victim->reread)) {
      if (slots_.size() >= maxSlots_) slots_.clear(), victim = nullptr;
      auto s = std::make_unique<Slot>();
      s->f32Desc = f32Desc;
      s->copyDesc = copyDesc;
      s->user = memory(f32Desc, Engine(), nullptr);
      s->copy = memory(copyDesc, Engine());
      s->reorder = dnnl::reorder(s->user, s->copy);
      victim = s.get();
      slots_.push_back(std::move(s));
    }
    victim->user.set_data_handle(data);
    PhaseTimer t(Phases().*phase_);
    victim->reorder.execute(Stream(), victim->user, victim->copy);
    victim->id = id;
    victim->used = clock_;
    victim->reread = false;
    return victim->copy;
  }

 private:
  struct Slot {
    memory::desc f32Desc, copyDesc;
    memory user, copy;
    dnnl::reorder reorder;
    uint64_t id = 0, used = 0;
    bool reread = false;  // read again since converted: its second reader is done, or it repeats (inference)
  };
  const int perShape_;
  const size_t maxSlots_;
  double PhaseTimes::*phase_;
  std::vector<std::unique_ptr<Slot>> slots_;
  uint64_t clock_ = 0;
};

// Activations in bf16 or Winograd's blocked layout: the gradient dz is read by the backward-data and the
// backward-weights primitives one after the other, and converted once. Two per shape: a third kept resnet34's
// step 27 MB larger and saved 3 of its ~90 conversions a step (bf16: 3-4 of ~130).
inline CopiesById& Activations() {
  static CopiesById a(2, 96, &PhaseTimes::activations);
  return a;
}

// Weights in the blocked layout that both passes of a Winograd layer read (its forward and backward-data primitives
// want the same one): converted once per step instead of twice, for a copy per layer (resnet34: ~43 MB). Up to 32
// layers of one shape (resnet34 has 12 of 256 -> 256).
inline CopiesById& SharedWeights() {
  static CopiesById w(32, 256, &PhaseTimes::weights);
  return w;
}

// Weights in a primitive's layout, in one buffer for all primitives (they run one at a time): inputs of trainable
// layers, whose values change at every call, and weight gradients, copied out right after the call.
inline SharedScratchpad& StagedInputs() {
  static SharedScratchpad s;
  return s;
}
inline SharedScratchpad& StagedOutputs() {
  static SharedScratchpad s;
  return s;
}

// A memory object of the given layout that either aliases the user's buffer (same layout) or holds it in oneDNN's
// preferred layout, with the reorder between the two. Inputs that are shared by id (a Winograd layer's weights, read
// by two primitives) come from SharedWeights(). Other inputs are converted into StagedInputs(), except when a call
// brings the same tensor as the one before (frozen weights, inference): then the input gets a buffer of its own that
// keeps the copy, and its reorder is skipped while the tensor stays the same (trained layers' weights change at every
// call; a copy of their own each kept resnet34's peak 30-60 MB higher). Outputs (weight gradients) are always written
// to StagedOutputs().
struct Staged {
  memory user;  // the TF.js tensor (handle set per call)
  memory prim;  // what the primitive reads or writes (== user when no reorder; unused when shared)
  dnnl::reorder reorder;
  bool reorders = false;
  bool shared = false;

  // toPrim: user -> prim (an input); otherwise prim -> user (an output). shared: an input kept in SharedWeights().
  Staged(const memory::desc& userDesc, const memory::desc& primDesc, bool toPrim, bool sharedById = false)
      : user(userDesc, Engine(), nullptr), primDesc_(primDesc) {
    reorders = userDesc != primDesc;
    if (!reorders) {
      prim = user;
      return;
    }
    shared = toPrim && sharedById;
    if (shared) return;
    const memory unbound(primDesc, Engine(), nullptr);
    reorder = toPrim ? dnnl::reorder(user, unbound) : dnnl::reorder(unbound, user);
  }

  // The input in the primitive's layout. id: the tensor's identity (0 = unknown): when the own buffer already holds
  // that tensor's values the reorder is skipped.
  memory In(float* data, uint64_t id = 0) {
    user.set_data_handle(data);
    if (!reorders) return prim;
    if (shared) return SharedWeights().Get(user.get_desc(), primDesc_, data, id);
    if (id != 0 && id == holds_) return prim;
    const bool repeats = id != 0 && id == last_;
    last_ = id;
    if (repeats) {
      if (!own_) own_ = memory(primDesc_, Engine());
      prim = own_;
      holds_ = id;
    } else {
      own_ = memory();
      holds_ = 0;
      prim = StagedInputs().For(primDesc_);
    }
    PhaseTimer t(Phases().weights);
    reorder.execute(Stream(), user, prim);
    return prim;
  }
  // Where the primitive writes the output for the tensor `data` (then Flush).
  void Out(float* data) {
    user.set_data_handle(data);
    if (reorders) prim = StagedOutputs().For(primDesc_);
  }
  void Flush() {
    if (!reorders) return;
    PhaseTimer t(Phases().gradients);
    reorder.execute(Stream(), prim, user);
  }

 private:
  memory::desc primDesc_;
  memory own_;         // the own buffer of an input whose tensor comes back
  uint64_t holds_ = 0;  // the id of the tensor whose values own_ holds (0 = none)
  uint64_t last_ = 0;   // the id of the previous call's tensor
};

// An activation a primitive writes in a blocked layout (Winograd's y or dx), copied to the NHWC tensor after the
// call. The blocked values live in one buffer shared by every primitive (they run one at a time, and the copy is
// done before the next), so that the outputs of a few dozen shapes do not each keep memory of their own.
inline SharedScratchpad& BlockedOutputs() {
  static SharedScratchpad s;
  return s;
}
class ActivationOut {
 public:
  ActivationOut(const memory::desc& nhwc, const memory::desc& primDesc)
      : user_(nhwc, Engine(), nullptr), primDesc_(primDesc), reorders_(nhwc != primDesc) {
    if (reorders_) reorder_ = dnnl::reorder(memory(primDesc, Engine(), nullptr), user_);
  }

  // The memory the primitive writes for the tensor `data`.
  memory Into(float* data) {
    user_.set_data_handle(data);
    prim_ = reorders_ ? BlockedOutputs().For(primDesc_) : user_;
    return prim_;
  }
  // Copies what the primitive wrote into the tensor (nothing to do when it wrote NHWC).
  void Flush() {
    if (!reorders_) return;
    PhaseTimer t(Phases().activations);
    reorder_.execute(Stream(), prim_, user_);
  }

 private:
  memory user_, prim_;
  memory::desc primDesc_;
  bool reorders_;
  dnnl::reorder reorder_;
};

// What a primitive reads for the fp32 NHWC tensor `data`: the tensor itself (through `user`, whose handle is set)
// when the primitive reads fp32 NHWC, else its copy in `primDesc` (bf16, or Winograd's blocked layout).
inline memory ReadAs(const memory::desc& primDesc, memory& user, float* data, uint64_t id) {
  user.set_data_handle(data);
  return primDesc == user.get_desc() ? user : Activations().Get(user.get_desc(), primDesc, data, id);
}

// A tensor id from JavaScript (a non-negative integer below 2^53; 0 = unknown).
inline uint64_t Id(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) return 0;
  const double v = info[i].As<Napi::Number>().DoubleValue();
  return v > 0 ? static_cast<uint64_t>(v) : 0;
}

// Runs what follows with `n` OpenMP threads (0: unchanged) and puts the process's count back at the end of the scope.
// oneDNN's jit kernels split their work for the thread count of the moment they are created, and run with it.
class ThreadsScope {
 public:
  explicit ThreadsScope(int n) : set_(n > 0 && n != ConfigureThreads()) {
    if (set_) omp_set_num_threads(n);
  }
  ~ThreadsScope() {
    if (set_) omp_set_num_threads(ConfigureThreads());
  }
  ThreadsScope(const ThreadsScope&) = delete;
  ThreadsScope& operator=(const ThreadsScope&) = delete;

 private:
  bool set_;
};

// Runs body, turning oneDNN failures into JavaScript errors that name the kernel.
template <typename Body>
Napi::Value Guarded(const Napi::CallbackInfo& info, const char* kernel, Body body) {
  try {
    std::lock_guard<std::mutex> lock(Lock());
    body();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string("native ") + kernel + ": oneDNN failed: " + e.what() +
                                           " (status " + std::to_string(static_cast<int>(e.status)) + ")");
  }
  return info.Env().Undefined();
}

// Checks that argument i is a Float32Array of exactly n elements and returns its data.
inline float* Tensor(const Napi::CallbackInfo& info, size_t i, int64_t n, const char* kernel, const char* name) {
  float* p = F32(info, i);
  Check(static_cast<int64_t>(Length(info, i)) == n, info.Env(),
        std::string(kernel) + ": " + name + " has " + std::to_string(Length(info, i)) + " elements, expected " +
            std::to_string(n));
  return p;
}

}  // namespace conv
}  // namespace unet
