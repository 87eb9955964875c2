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

#include <chrono>
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

// The forward descriptor that backward primitives need as a hint (bf16: bf16 src and weights, fp32 dst).
inline dnnl::convolution_forward::primitive_desc ForwardHint(const Geometry& g, bool bf16 = false) {
  const dt in = bf16 ? dt::bf16 : dt::f32;
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, g.X(in),
                                    g.WAny(in), g.Y(), g.Strides(), g.Dilations(), g.PadL(), g.PadR());
  return dnnl::convolution_forward::primitive_desc(d, UserScratchpad(), Engine());
}

// oneDNN's reference implementations ("ref:any", "gemm:ref") are correct but tens of times slower than its
// jit ones; a bf16 primitive that only has those (e.g. 3 input channels on some CPUs) runs in fp32 instead.
inline bool IsReference(const std::string& impl) { return impl.rfind("ref", 0) == 0 || impl.find(":ref") != std::string::npos; }

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

// A memory object of the given layout that either aliases the user's buffer (same layout) or owns
// a buffer of oneDNN's preferred layout, with the reorder between the two.
struct Staged {
  memory user;          // the TF.js tensor (handle set per call)
  memory prim;          // what the primitive reads or writes (== user when no reorder)
  dnnl::reorder reorder;
  bool reorders = false;

  uint64_t holds = 0;  // the id of the tensor whose values prim holds (inputs; 0 = none)

  // toPrim: user -> prim (an input); otherwise prim -> user (an output).
  Staged(const memory::desc& userDesc, const memory::desc& primDesc, bool toPrim)
      : user(userDesc, Engine(), nullptr) {
    reorders = userDesc != primDesc;
    if (!reorders) {
      prim = user;
      return;
    }
    prim = memory(primDesc, Engine());
    reorder = toPrim ? dnnl::reorder(user, prim) : dnnl::reorder(prim, user);
  }

  // id: the tensor's identity (0 = unknown): when prim already holds that tensor's values the reorder is skipped.
  void In(float* data, uint64_t id = 0) {
    user.set_data_handle(data);
    if (!reorders) return;
    if (id != 0 && id == holds) return;
    PhaseTimer t(Phases().weights);
    reorder.execute(Stream(), user, prim);
    holds = id;
  }
  void Out(float* data) { user.set_data_handle(data); }
  void Flush() {
    if (!reorders) return;
    PhaseTimer t(Phases().gradients);
    reorder.execute(Stream(), prim, user);
  }
};

// bf16 NHWC copies of fp32 activations, the last few kept by tensor id: the gradient dz is read by the
// backward-data and the backward-weights primitives one after the other, and converted once. At most
// kPerShape buffers per shape, reused (fresh memory costs page faults here), least recently used first.
class Bf16Activations {
 public:
  // The copy of the fp32 NHWC tensor `data` in `bf16Desc` (bf16, NHWC or a blocked layout; id 0: unknown
  // identity, always converted).
  memory Get(const memory::desc& f32Desc, const memory::desc& bf16Desc, float* data, uint64_t id) {
    Slot* hit = nullptr;
    Slot* victim = nullptr;
    int sameShape = 0;
    for (auto& s : slots_) {
      if (s->f32Desc != f32Desc || s->bf16Desc != bf16Desc) continue;
      sameShape++;
      if (id != 0 && s->id == id) hit = s.get();
      if (!victim || s->used < victim->used) victim = s.get();
    }
    clock_++;
    if (hit) {
      hit->used = clock_;
      return hit->bf16;
    }
    if (sameShape < kPerShape) {
      if (slots_.size() >= kMaxSlots) slots_.clear(), victim = nullptr;
      auto s = std::make_unique<Slot>();
      s->f32Desc = f32Desc;
      s->bf16Desc = bf16Desc;
      s->user = memory(f32Desc, Engine(), nullptr);
      s->bf16 = memory(bf16Desc, Engine());
      s->reorder = dnnl::reorder(s->user, s->bf16);
      victim = s.get();
      slots_.push_back(std::move(s));
    }
    victim->user.set_data_handle(data);
    PhaseTimer t(Phases().activations);
    victim->reorder.execute(Stream(), victim->user, victim->bf16);
    victim->id = id;
    victim->used = clock_;
    return victim->bf16;
  }

 private:
  static constexpr int kPerShape = 3;
  static constexpr size_t kMaxSlots = 96;
  struct Slot {
    memory::desc f32Desc, bf16Desc;
    memory user, bf16;
    dnnl::reorder reorder;
    uint64_t id = 0, used = 0;
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  uint64_t clock_ = 0;
};

inline Bf16Activations& Activations() {
  static Bf16Activations a;
  return a;
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
