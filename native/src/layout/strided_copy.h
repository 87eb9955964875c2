// The strided copy of 4-byte elements that the copy kernels share (implemented in copy.cc).
#pragma once
#include <cstdint>
#include <vector>

#include "layout/layout.h"

namespace unet {
namespace layout {

struct Axis {
  int64_t n, src, dst;  // extent, source stride, destination stride (elements)
};

constexpr int kMaxAxes = 16;  // Tile of a rank-6 tensor splits every axis in two: 12

// Copies the region `axes` (row-major, outermost first) from src to dst; the caller has checked that
// it lies inside both buffers. Parallel above kParallelMin elements.
void StridedCopy(const uint32_t* src, uint32_t* dst, const std::vector<Axis>& axes);

}  // namespace layout
}  // namespace unet
