// Shared pieces of the conv family: one oneDNN engine + stream per process, the convolution's
// geometry as passed from JavaScript, memory descriptors in TF.js's layouts, and a primitive cache.
//
// Layouts: activations stay in NHWC (the tensors' real layout, no copies); TF.js filters are HWIO
// ([kh, kw, in, out]). Primitives are created with weights in format_tag::any so that oneDNN picks
// its preferred (blocked) weight layout: about twice as fast here as plain HWIO. The weights are
// reordered into that layout on every call (they change at every training step, and are small next
// to the activations).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

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
  memory::desc X() const { return memory::desc({n, c, h, w}, dt::f32, tag::nhwc); }
  memory::desc Y() const { return memory::desc({n, o, oh, ow}, dt::f32, tag::nhwc); }
  memory::desc WUser() const { return memory::desc({o, c, kh, kw}, dt::f32, tag::hwio); }
  memory::desc WAny() const { return memory::desc({o, c, kh, kw}, dt::f32, tag::any); }
  memory::dims Strides() const { return {sh, sw}; }
  memory::dims Dilations() const { return {dh - 1, dw - 1}; }  // oneDNN: 0 = dense
  memory::dims PadL() const { return {pt, pl}; }
  memory::dims PadR() const { return {pb, pr}; }
};
static_assert(sizeof(Geometry) == Geometry::kFields * sizeof(int64_t), "Geometry is filled by memcpy");

// The forward descriptor that backward primitives need as a hint.
inline dnnl::convolution_forward::primitive_desc ForwardHint(const Geometry& g) {
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, g.X(),
                                    g.WAny(), g.Y(), g.Strides(), g.Dilations(), g.PadL(), g.PadR());
  return dnnl::convolution_forward::primitive_desc(d, Engine());
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

  void In(float* data) {
    user.set_data_handle(data);
    if (reorders) reorder.execute(Stream(), user, prim);
  }
  void Out(float* data) { user.set_data_handle(data); }
  void Flush() {
    if (reorders) reorder.execute(Stream(), prim, user);
  }
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
