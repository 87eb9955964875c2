// The strided copy behind Slice, Transpose, PadV2, Tile and Reverse (and Concat/SplitV along the
// first axes, see concat.cc).
//
// Each of those kernels is a copy of a region of 4-byte elements: the TS side describes it as a
// list of axes {extent, source stride, destination stride} (row-major, outermost first; strides in
// elements, possibly 0 for Tile's repeats or negative for Reverse) plus a start offset in each
// buffer. This file simplifies that description and picks the loop that suits it:
//  - rows: the innermost axis is contiguous in both buffers (slices, tiles, pads, a transpose that
//    keeps the last axis): one memcpy per row, rows walked incrementally, no index decoding; a few
//    long rows are cut into chunks so that every thread has work;
//  - tiles: the innermost axis is strided in the source while another axis is contiguous there (a
//    transpose that moves the last axis, NHWC <-> NCHW): 16x16 tiles so that reads and writes both
//    stay in cache;
//  - otherwise element loops along the innermost axis (Reverse of the last axis, ...).
// Signatures from JS:
//   copy(src, dst, srcOffset, dstOffset, axes: [n0, src0, dst0, n1, src1, dst1, ...])
//   fill(dst, value)   (value converted to dst's element type, as TypedArray.fill does)
#include <cmath>
#include <cstring>

#include "layout/strided_copy.h"

namespace unet {
namespace layout {
namespace {

constexpr int64_t kTile = 16;
constexpr int64_t kChunk = 1 << 14;  // elements per piece when a few long rows are split across threads

// Drops unit axes and merges neighbours that are one contiguous run in both buffers, so that e.g. a
// channel concat of NHWC tensors becomes [rows, channels] and a plain copy becomes one run.
std::vector<Axis> Simplify(const std::vector<Axis>& axes) {
  std::vector<Axis> out;
  for (const Axis& a : axes) {
    if (a.n == 1) continue;
    if (!out.empty() && out.back().src == a.n * a.src && out.back().dst == a.n * a.dst) {
      out.back() = {out.back().n * a.n, a.src, a.dst};
    } else {
      out.push_back(a);
    }
  }
  if (out.empty()) out.push_back({1, 1, 1});
  return out;
}

// Walks the multi-index of a list of axes in row-major order, tracking both buffer offsets, so that
// stepping to the next row costs an add (a carry now and then) rather than a division per axis.
struct Walker {
  const Axis* axes;
  int count;
  int64_t idx[kMaxAxes] = {};
  int64_t src = 0, dst = 0;

  Walker(const Axis* a, int k) : axes(a), count(k) {}

  void Seek(int64_t linear) {
    src = dst = 0;
    for (int j = count - 1; j >= 0; --j) {
      idx[j] = linear % axes[j].n;
      linear /= axes[j].n;
      src += idx[j] * axes[j].src;
      dst += idx[j] * axes[j].dst;
    }
  }

  void Next() {
    for (int j = count - 1; j >= 0; --j) {
      src += axes[j].src;
      dst += axes[j].dst;
      if (++idx[j] < axes[j].n) return;
      src -= axes[j].n * axes[j].src;
      dst -= axes[j].n * axes[j].dst;
      idx[j] = 0;
    }
  }
};

// One run along the innermost axis.
inline void CopyRun(const uint32_t* s, uint32_t* d, int64_t n, int64_t ss, int64_t ds) {
  if (ss == 1 && ds == 1) {
    std::memcpy(d, s, static_cast<size_t>(n) * sizeof(uint32_t));
  } else if (ds == 1) {
    for (int64_t i = 0; i < n; i++) d[i] = s[i * ss];  // gathers: Reverse (ss = -1), Tile (ss = 0)
  } else {
    for (int64_t i = 0; i < n; i++) d[i * ds] = s[i * ss];
  }
}

// Rows along the innermost axis; a few long rows are cut into chunks so that every thread has work.
void CopyRows(const uint32_t* src, uint32_t* dst, const std::vector<Axis>& axes, bool parallel) {
  const Axis inner = axes.back();
  const int outer = static_cast<int>(axes.size()) - 1;
  int64_t rows = 1;
  for (int j = 0; j < outer; j++) rows *= axes[j].n;
  const int64_t threads = omp_get_max_threads();
  if (!parallel || rows >= 4 * threads || inner.n < 2 * kChunk) {
    ParallelRanges(rows, parallel, [&](int64_t begin, int64_t end) {
      Walker w(axes.data(), outer);
      w.Seek(begin);
      for (int64_t r = begin; r < end; r++, w.Next()) CopyRun(src + w.src, dst + w.dst, inner.n, inner.src, inner.dst);
    });
    return;
  }
  const int64_t chunks = (inner.n + kChunk - 1) / kChunk;
  ParallelRanges(rows * chunks, true, [&](int64_t begin, int64_t end) {
    Walker w(axes.data(), outer);
    for (int64_t u = begin; u < end; u++) {
      w.Seek(u / chunks);
      const int64_t at = (u % chunks) * kChunk, n = std::min(kChunk, inner.n - at);
      CopyRun(src + w.src + at * inner.src, dst + w.dst + at * inner.dst, n, inner.src, inner.dst);
    }
  });
}

// A transpose that moves the source's contiguous axis `b` away from the innermost position `a`:
// for every index of the other axes, a 2-D [nb, na] transpose in kTile x kTile tiles. Work units are
// (other index, strip of kTile along a, block of kBlock along b), so that even one plane (batch 1)
// spreads over the threads.
void CopyTiles(const uint32_t* src, uint32_t* dst, const std::vector<Axis>& axes, size_t b, bool parallel) {
  constexpr int64_t kBlock = 16 * kTile;
  const Axis A = axes.back(), B = axes[b];
  std::vector<Axis> rest;
  for (size_t j = 0; j + 1 < axes.size(); j++)
    if (j != b) rest.push_back(axes[j]);
  int64_t planes = 1;
  for (const Axis& r : rest) planes *= r.n;
  const int64_t strips = (A.n + kTile - 1) / kTile, blocks = (B.n + kBlock - 1) / kBlock;
  ParallelRanges(planes * strips * blocks, parallel, [&](int64_t begin, int64_t end) {
    Walker w(rest.data(), static_cast<int>(rest.size()));
    for (int64_t u = begin; u < end; u++) {
      w.Seek(u / (strips * blocks));
      const int64_t a0 = (u / blocks % strips) * kTile, a1 = std::min(A.n, a0 + kTile);
      const int64_t bBegin = (u % blocks) * kBlock, bEnd = std::min(B.n, bBegin + kBlock);
      const uint32_t* s = src + w.src;
      uint32_t* d = dst + w.dst;
      for (int64_t b0 = bBegin; b0 < bEnd; b0 += kTile) {
        const int64_t b1 = std::min(bEnd, b0 + kTile);
        for (int64_t i = b0; i < b1; i++) {
          const uint32_t* si = s + i;  // B.src == 1
          uint32_t* di = d + i * B.dst;
          for (int64_t j = a0; j < a1; j++) di[j * A.dst] = si[j * A.src];
        }
      }
    }
  });
}

}  // namespace

void StridedCopy(const uint32_t* src, uint32_t* dst, const std::vector<Axis>& given) {
  const std::vector<Axis> axes = Simplify(given);
  int64_t total = 1;
  for (const Axis& a : axes) total *= a.n;
  if (total == 0) return;
  const bool parallel = total >= kParallelMin;
  const Axis inner = axes.back();
  if (inner.src != 1 && inner.src != 0 && axes.size() > 1) {
    for (size_t b = 0; b + 1 < axes.size(); b++)
      if (axes[b].src == 1) return CopyTiles(src, dst, axes, b, parallel);
  }
  CopyRows(src, dst, axes, parallel);
}

namespace {

// The lowest and highest element offsets a region reaches from `start` (for the bounds check).
std::pair<int64_t, int64_t> Reach(const std::vector<Axis>& axes, int64_t start, bool source) {
  int64_t lo = start, hi = start;
  for (const Axis& a : axes) {
    const int64_t span = (a.n - 1) * (source ? a.src : a.dst);
    (span < 0 ? lo : hi) += span;
  }
  return {lo, hi};
}

Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t* src = Words(info, 0);
  uint32_t* dst = Words(info, 1);
  const int64_t srcOffset = Int(info, 2), dstOffset = Int(info, 3);
  const std::vector<int64_t> flat = Ints(info, 4);
  Check(flat.size() % 3 == 0 && flat.size() / 3 <= kMaxAxes, env, "copy: axes must be [n, srcStride, dstStride] triples, at most 16");
  std::vector<Axis> axes;
  bool empty = false;
  for (size_t i = 0; i < flat.size(); i += 3) {
    Check(flat[i] >= 0, env, "copy: negative extent");
    empty = empty || flat[i] == 0;
    axes.push_back({flat[i], flat[i + 1], flat[i + 2]});
  }
  if (empty) return env.Undefined();
  // One check of the whole region against both buffers keeps every loop below free of checks.
  const auto [slo, shi] = Reach(axes, srcOffset, true);
  const auto [dlo, dhi] = Reach(axes, dstOffset, false);
  Check(slo >= 0 && shi < static_cast<int64_t>(Length(info, 0)), env, "copy: region outside the source");
  Check(dlo >= 0 && dhi < static_cast<int64_t>(Length(info, 1)), env, "copy: region outside the destination");
  StridedCopy(src + srcOffset, dst + dstOffset, axes);
  return env.Undefined();
}
UNET_KERNEL("copy", Copy);

Napi::Value Fill(const Napi::CallbackInfo& info) {
  uint32_t* dst = Words(info, 0);
  const double value = Num(info, 1);
  const int64_t n = static_cast<int64_t>(Length(info, 0));
  uint32_t word;
  if (info[0].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
    const float f = static_cast<float>(value);
    std::memcpy(&word, &f, sizeof word);
  } else {
    // Int32Array.fill semantics: ToInt32 (truncation, modulo 2^32).
    const double t = std::trunc(value);
    const int32_t v = std::isfinite(t) ? static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(std::fmod(t, 4294967296.0)))) : 0;
    std::memcpy(&word, &v, sizeof word);
  }
#pragma omp parallel for simd schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) dst[i] = word;
  return info.Env().Undefined();
}
UNET_KERNEL("fill", Fill);

}  // namespace
}  // namespace layout
}  // namespace unet
