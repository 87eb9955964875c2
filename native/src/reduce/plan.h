// Reductions over any axis set without transposing: the shape is collapsed into alternating groups
// of adjacent kept / reduced axes (size-1 axes dropped), and the innermost group becomes a
// contiguous block that is either kept (a vector accumulated element-wise, e.g. a bias gradient
// [8,96,128,16] over [0,1,2] -> [98304 reduced, 16 kept]) or reduced (a row folded to a scalar,
// e.g. a reduction over the last axis). The remaining outer groups are walked with strides.
#pragma once
#include <cstdint>
#include <vector>

#include "common.h"

namespace unet {

// A strided multi-index over some dims: `offset` follows the linear position (row-major).
struct Odometer {
  const std::vector<int64_t>& dims;
  const std::vector<int64_t>& strides;
  std::vector<int64_t> idx;
  int64_t offset = 0;

  Odometer(const std::vector<int64_t>& d, const std::vector<int64_t>& s) : dims(d), strides(s), idx(d.size(), 0) {}

  void Seek(int64_t linear) {
    offset = 0;
    for (size_t k = dims.size(); k-- > 0;) {
      idx[k] = linear % dims[k];
      linear /= dims[k];
      offset += idx[k] * strides[k];
    }
  }

  void Next() {
    for (size_t k = dims.size(); k-- > 0;) {
      offset += strides[k];
      if (++idx[k] < dims[k]) return;
      offset -= dims[k] * strides[k];
      idx[k] = 0;
    }
  }
};

struct ReducePlan {
  int64_t block = 1;          // length of the innermost contiguous group
  bool blockReduced = true;   // that group is reduced (folded to a scalar) or kept (a vector)
  std::vector<int64_t> keptDims, keptStrides;     // outer kept groups, outermost first
  std::vector<int64_t> reducedDims, reducedStrides;  // outer reduced groups, outermost first
  int64_t rows = 1;           // product of keptDims: output rows
  int64_t reductions = 1;     // product of reducedDims: blocks folded into each row
  int64_t total = 1;          // input elements

  int64_t RowWidth() const { return blockReduced ? 1 : block; }
  // How many input elements each output element folds (the divisor of a mean).
  int64_t Count() const { return reductions * (blockReduced ? block : 1); }
};

// shape: the input's shape; axes: the reduced axes (normalised, any order, no duplicates).
inline ReducePlan MakePlan(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes) {
  const size_t rank = shape.size();
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes) reduced[a] = true;
  // Groups from the innermost axis outwards: {size, stride, reduced}.
  struct Group { int64_t size, stride; bool reduced; };
  std::vector<Group> groups;
  int64_t stride = 1;
  for (size_t k = rank; k-- > 0;) {
    const int64_t d = shape[k];
    if (d != 1) {
      if (!groups.empty() && groups.back().reduced == reduced[k]) {
        groups.back().size *= d;  // adjacent axes of the same kind are one contiguous axis
      } else {
        groups.push_back({d, stride, reduced[k]});
      }
    }
    stride *= d;
  }
  ReducePlan p;
  p.total = stride;
  if (!groups.empty()) {
    p.block = groups.front().size;
    p.blockReduced = groups.front().reduced;
    for (size_t g = groups.size(); g-- > 1;) {
      auto& dims = groups[g].reduced ? p.reducedDims : p.keptDims;
      auto& strides = groups[g].reduced ? p.reducedStrides : p.keptStrides;
      dims.push_back(groups[g].size);
      strides.push_back(groups[g].stride);
    }
  }
  for (int64_t d : p.keptDims) p.rows *= d;
  for (int64_t d : p.reducedDims) p.reductions *= d;
  return p;
}

// Below this many input elements one thread is faster than waking the pool.
constexpr int64_t kParallelThreshold = 32768;

// Folds one row's reductions [r0, r1) into acc (RowWidth() accumulators), walking them with
// `red` (the caller's, over the plan's reduced groups: no allocation per row). `Op` supplies
// Acc Init(), Acc Step(Acc, In), Acc Merge(Acc, Acc).
template <typename Op, typename In, typename Acc>
void FoldRow(const ReducePlan& p, const In* row, int64_t r0, int64_t r1, Odometer& red, Acc* acc) {
  red.Seek(r0);
  const int64_t n = p.block;
  if (!p.blockReduced) {
    // A kept block: element-wise accumulation of contiguous vectors (vectorises).
    if (p.reducedDims.size() == 1) {
      // One reduced group (e.g. all leading axes): fixed stride, four vectors per pass over acc.
      const int64_t s = p.reducedStrides[0];
      const In* x = row + r0 * s;
      int64_t r = r0;
      for (; r + 4 <= r1; r += 4, x += 4 * s) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) acc[i] = Op::Step(Op::Step(Op::Step(Op::Step(acc[i], x[i]), x[s + i]), x[2 * s + i]), x[3 * s + i]);
      }
      for (; r < r1; r++, x += s) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) acc[i] = Op::Step(acc[i], x[i]);
      }
      return;
    }
    for (int64_t r = r0; r < r1; r++, red.Next()) {
      const In* x = row + red.offset;
#pragma omp simd
      for (int64_t i = 0; i < n; i++) acc[i] = Op::Step(acc[i], x[i]);
    }
    return;
  }
  constexpr int kLanes = 16;
  if (n < 4 * kLanes) {
    // A short reduced block (e.g. 23 class scores): a plain loop beats setting up lanes.
    Acc a = Op::Init();
    for (int64_t r = r0; r < r1; r++, red.Next()) {
      const In* x = row + red.offset;
      for (int64_t j = 0; j < n; j++) a = Op::Step(a, x[j]);
    }
    acc[0] = Op::Merge(acc[0], a);
    return;
  }
  // A long reduced block: 16 independent lanes so the fold vectorises whatever the operation,
  // and, for sums, each lane adds only 1/16 of the terms (a blocked sum).
  Acc lanes[kLanes];
  for (int k = 0; k < kLanes; k++) lanes[k] = Op::Init();
  for (int64_t r = r0; r < r1; r++, red.Next()) {
    const In* x = row + red.offset;
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
#pragma omp simd
      for (int k = 0; k < kLanes; k++) lanes[k] = Op::Step(lanes[k], x[j + k]);
    }
    for (int k = 0; j < n; j++, k++) lanes[k] = Op::Step(lanes[k], x[j]);
  }
  // Pairwise merge, as in a pairwise sum.
  for (int w = kLanes / 2; w >= 1; w /= 2) {
    for (int k = 0; k < w; k++) lanes[k] = Op::Merge(lanes[k], lanes[k + w]);
  }
  acc[0] = Op::Merge(acc[0], lanes[0]);
}

// A long reduced block with too few reductions to share among threads (e.g. a sum of the whole
// tensor: one block, one reduction) is viewed as c equal chunks, one more reduced group.
inline ReducePlan SplitLongBlock(ReducePlan p, int threads) {
  if (threads <= 1 || !p.blockReduced || p.reductions >= 4 * threads || p.block < 4096 * threads) return p;
  for (int64_t c = 64; c >= 2; c--) {
    if (p.block % c != 0) continue;
    p.block /= c;
    p.reducedDims.push_back(c);  // innermost reduced group: chunk j starts at j * block
    p.reducedStrides.push_back(p.block);
    p.reductions *= c;
    break;
  }
  return p;
}

// y[row * RowWidth() + i] = Op::Finish(fold of the row's elements, count).
template <typename Op, typename In, typename Out>
void RunReduce(const ReducePlan& plan, const In* x, Out* y) {
  using Acc = typename Op::Acc;
  const ReducePlan p = SplitLongBlock(plan, plan.total >= kParallelThreshold ? omp_get_max_threads() : 1);
  const int64_t width = p.RowWidth();
  const int threads = p.total >= kParallelThreshold ? omp_get_max_threads() : 1;
  const double count = static_cast<double>(p.Count());

  if (threads == 1 || p.rows >= 4 * threads) {
    // Enough rows: each thread folds whole rows.
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t begin = p.rows * t / nt, end = p.rows * (t + 1) / nt;
      std::vector<Acc> acc(width);
      Odometer kept(p.keptDims, p.keptStrides), red(p.reducedDims, p.reducedStrides);
      kept.Seek(begin);
      for (int64_t row = begin; row < end; row++, kept.Next()) {
        for (auto& a : acc) a = Op::Init();
        FoldRow<Op>(p, x + kept.offset, 0, p.reductions, red, acc.data());
        for (int64_t i = 0; i < width; i++) y[row * width + i] = Op::Finish(acc[i], count);
      }
    }
    return;
  }
  // Few rows (e.g. a bias gradient: one row of 16): each thread folds a slice of every row's
  // reductions into its own partials, merged afterwards in thread order (deterministic).
  std::vector<Acc> partial(static_cast<size_t>(threads) * p.rows * width, Op::Init());
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = p.reductions * t / nt, r1 = p.reductions * (t + 1) / nt;
    Odometer kept(p.keptDims, p.keptStrides), red(p.reducedDims, p.reducedStrides);
    kept.Seek(0);
    for (int64_t row = 0; row < p.rows; row++, kept.Next()) {
      FoldRow<Op>(p, x + kept.offset, r0, r1, red, &partial[(static_cast<size_t>(t) * p.rows + row) * width]);
    }
  }
  const size_t outputs = static_cast<size_t>(p.rows * width);
  for (size_t o = 0; o < outputs; o++) {
    Acc a = partial[o];
    for (int t = 1; t < threads; t++) a = Op::Merge(a, partial[t * outputs + o]);
    y[o] = Op::Finish(a, count);
  }
}

}  // namespace unet
