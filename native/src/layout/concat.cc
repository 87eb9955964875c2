// Concat and SplitV as one pass over rows. Viewed as matrices split at the axis, the output of a
// concat is [outer, W] and part i fills columns [o_i, o_i + w_i) of every row (for the U-Net's
// channel concat: a row is one pixel, w_i its channels). Filling each output row completely before
// the next writes every cache line once; a copy per part would stream the output k times, each
// time reading and writing lines it only half fills. SplitV is the same walk with the roles swapped.
// With few rows (a concat along the first axis) each part is one long run: the strided copy then
// cuts it into chunks so that all threads help.
// Signatures from JS (4-byte elements: float32 or int32):
//   concat(parts: TypedArray[], out, outer, widths: number[])   parts[i] is [outer, widths[i]]
//   split(x, parts: TypedArray[], outer, widths: number[])
#include <cstring>

#include "layout/strided_copy.h"

namespace unet {
namespace layout {
namespace {

struct Parts {
  std::vector<uint32_t*> data;
  std::vector<int64_t> widths;
  int64_t total = 0;  // the sum of the widths: the row length of the whole
};

// The parts and widths, checked: part i holds outer * widths[i] elements.
Parts ReadParts(const Napi::CallbackInfo& info, size_t partsArg, int64_t outer, size_t widthsArg, const char* what) {
  Napi::Env env = info.Env();
  Check(info[partsArg].IsArray(), env, std::string(what) + ": expected an array of typed arrays");
  Napi::Array list = info[partsArg].As<Napi::Array>();
  Parts p;
  p.widths = Ints(info, widthsArg);
  Check(p.widths.size() == list.Length(), env, std::string(what) + ": one width per part");
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    Check(v.IsTypedArray() && v.As<Napi::TypedArray>().ElementSize() == 4, env, std::string(what) + ": parts must be 4-byte typed arrays");
    Check(p.widths[i] >= 0 && static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength()) == outer * p.widths[i], env,
          std::string(what) + ": part " + std::to_string(i) + " does not hold outer * width elements");
    p.data.push_back(Data<uint32_t>(v, what));
    p.total += p.widths[i];
  }
  return p;
}

// Copies between the whole ([outer, total]) and its parts; toWhole picks the direction.
void Interleave(uint32_t* whole, const Parts& p, int64_t outer, bool toWhole) {
  const int64_t threads = omp_get_max_threads();
  const bool parallel = outer * p.total >= kParallelMin;
  if (parallel && outer < 4 * threads) {
    int64_t column = 0;
    for (size_t i = 0; i < p.data.size(); i++) {
      const int64_t w = p.widths[i];
      if (toWhole) {
        StridedCopy(p.data[i], whole + column, {{outer, w, p.total}, {w, 1, 1}});
      } else {
        StridedCopy(whole + column, p.data[i], {{outer, p.total, w}, {w, 1, 1}});
      }
      column += w;
    }
    return;
  }
  ParallelRanges(outer, parallel, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      uint32_t* row = whole + r * p.total;
      for (size_t i = 0; i < p.data.size(); i++) {
        const int64_t w = p.widths[i];
        uint32_t* part = p.data[i] + r * w;
        if (toWhole) {
          std::memcpy(row, part, w * sizeof(uint32_t));
        } else {
          std::memcpy(part, row, w * sizeof(uint32_t));
        }
        row += w;
      }
    }
  });
}

Napi::Value Concat(const Napi::CallbackInfo& info) {
  const int64_t outer = Int(info, 2);
  Check(outer >= 0, info.Env(), "concat: negative outer size");
  const Parts p = ReadParts(info, 0, outer, 3, "concat");
  uint32_t* out = Words(info, 1);
  CheckLength(info, 1, outer * p.total, "concat");
  Interleave(out, p, outer, true);
  return info.Env().Undefined();
}
UNET_KERNEL("concat", Concat);

Napi::Value Split(const Napi::CallbackInfo& info) {
  const int64_t outer = Int(info, 2);
  Check(outer >= 0, info.Env(), "split: negative outer size");
  const Parts p = ReadParts(info, 1, outer, 3, "split");
  uint32_t* x = Words(info, 0);
  CheckLength(info, 0, outer * p.total, "split");
  Interleave(x, p, outer, false);
  return info.Env().Undefined();
}
UNET_KERNEL("split", Split);

}  // namespace
}  // namespace layout
}  // namespace unet
