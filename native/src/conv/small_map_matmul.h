// fp32 convolutions whose output maps are at most 4x4 (a ResNet's last stage at 128x128 input, the pix2pix decoder's
// first up-sampling) as im2col + oneDNN's matmul, in all three passes. Laid out as rows of pixels, a convolution is
// one matrix product with TF.js's HWIO filter as it is ([KH*KW*C, O], row-major):
//   forward          y[M, O]    = cols(x)[M, K] . w[K, O]        (M = N*OH*OW pixels, K = KH*KW*C)
//   backward-data    dcols[M, K] = dy[M, O] . w^T[O, K]           then dx = the sum of dcols' taps (col2im)
//   backward-weights dw[K, O]   = cols(x)^T[K, M] . dy[M, O]
// so no pass converts the filter into a blocked layout or the gradient back to HWIO. On such maps those
// conversions cost as much as the convolutions: resnet34's five 512 -> 512 convolutions at 4x4 (batch 8, Zen 5,
// 2 threads) spent 14.7 ms a step in weight reorders (the HWIO -> blocked ones at 13 GB/s: strided reads of cold
// weights) beside 30 ms in oneDNN's direct kernels, and the matmul (brgemm) multiplies at ~300 GFLOP/s reading
// the plain weights. A 1x1 stride-1 convolution without padding needs no im2col (x is already cols(x)).
// UNET_TRANSFER_SMALL_MAP_MATMUL=0 keeps the convolution primitives (comparisons, and a check of the rule).
#pragma once
#include "conv/dnnl_conv.h"

namespace unet {
namespace conv {

// Above this the im2col matrix (M x K floats) is too large to pay (batch 64 of 512 channels at 4x4: 19 MB): the
// convolution primitives run instead.
constexpr int64_t kMaxColumnsBytes = 16 << 20;

inline bool Pointwise(const Geometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.pb == 0 && g.pr == 0;
}

inline int64_t Pixels(const Geometry& g) { return g.n * g.oh * g.ow; }  // M
inline int64_t Taps(const Geometry& g) { return g.kh * g.kw * g.c; }    // K

// Whether oneDNN has its brgemm matmul for fp32 here (AVX-512 in oneDNN 2.6); elsewhere its matmul would be the GEMM
// that WithoutGemm avoids, so the convolution primitives run.
inline bool BrgemmMatmulAvailable() {
  static const bool available = [] {
    try {
      const memory::desc m({16, 16}, dt::f32, tag::ab);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(m, m, m), Engine());
      return std::string(WithoutGemm(pd).impl_info_str()).rfind("brg", 0) == 0;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return available;
}

// Whether the output size follows from the input size, kernel, strides and paddings, as oneDNN requires (a geometry
// that does not is left to the convolution primitive, which refuses it with its error).
inline bool Consistent(const Geometry& g) {
  const int64_t spanH = g.h + g.pt + g.pb - ((g.kh - 1) * g.dh + 1);
  const int64_t spanW = g.w + g.pl + g.pr - ((g.kw - 1) * g.dw + 1);
  return spanH >= 0 && spanW >= 0 && g.oh == spanH / g.sh + 1 && g.ow == spanW / g.sw + 1;
}

// fp32 only: bf16 keeps oneDNN's convolutions (measured on fp32 kernels).
inline bool SmallMapMatmulPays(const Geometry& g, bool bf16) {
  static const bool allowed = SwitchedOn("UNET_TRANSFER_SMALL_MAP_MATMUL");
  return !bf16 && allowed && SmallMap(g) && Consistent(g) &&
         4 * Pixels(g) * Taps(g) <= kMaxColumnsBytes && BrgemmMatmulAvailable();
}

// One buffer for the im2col matrix of whichever pass runs (they run one at a time, under Lock()).
inline SharedScratchpad& Columns() {
  static SharedScratchpad s;
  return s;
}
inline float* ColumnsFor(const Geometry& g) {
  return static_cast<float*>(Columns().For(memory::desc({Pixels(g) * Taps(g)}, dt::f32, tag::x)).get_data_handle());
}

// cols[m = (n, oh, ow)][(kh, kw, c)] = x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, c], 0 in the padding.
inline void Im2col(const Geometry& g, const float* x, float* cols) {
  PhaseTimer t(Phases().activations);
  const int64_t K = Taps(g), rows = Pixels(g);
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < rows; m++) {
    const int64_t n = m / (g.oh * g.ow), oh = m / g.ow % g.oh, ow = m % g.ow;
    float* row = cols + m * K;
    for (int64_t kh = 0; kh < g.kh; kh++) {
      const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
      for (int64_t kw = 0; kw < g.kw; kw++) {
        const int64_t iw = ow * g.sw - g.pl + kw * g.dw;
        float* tap = row + (kh * g.kw + kw) * g.c;
        if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w)
          std::memset(tap, 0, g.c * sizeof(float));
        else
          std::memcpy(tap, x + ((n * g.h + ih) * g.w + iw) * g.c, g.c * sizeof(float));
      }
    }
  }
}

// x as the rows of cols(x): x itself for a pointwise convolution, else its im2col in the shared buffer.
inline const float* ColumnsOf(const Geometry& g, const float* x) {
  if (Pointwise(g)) return x;
  float* cols = ColumnsFor(g);
  Im2col(g, x, cols);
  return cols;
}

// dx[n, ih, iw, c] = the sum of dcols' entries that im2col took from there: gathered per input pixel, so every
// element of dx is written once (no zeroing, no races between threads).
inline void Col2im(const Geometry& g, const float* dcols, float* dx) {
  PhaseTimer t(Phases().activations);
  const int64_t K = Taps(g), pixels = g.n * g.h * g.w;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < pixels; p++) {
    const int64_t n = p / (g.h * g.w), ih = p / g.w % g.h, iw = p % g.w;
    float* out = dx + p * g.c;
    for (int64_t c = 0; c < g.c; c++) out[c] = 0.f;
    for (int64_t kh = 0; kh < g.kh; kh++) {
      const int64_t sy = ih + g.pt - kh * g.dh;  // = oh * sh
      if (sy < 0 || sy % g.sh != 0 || sy / g.sh >= g.oh) continue;
      for (int64_t kw = 0; kw < g.kw; kw++) {
        const int64_t sx = iw + g.pl - kw * g.dw;
        if (sx < 0 || sx % g.sw != 0 || sx / g.sw >= g.ow) continue;
        const float* tap = dcols + ((n * g.oh + sy / g.sh) * g.ow + sx / g.sw) * K + (kh * g.kw + kw) * g.c;
        for (int64_t c = 0; c < g.c; c++) out[c] += tap[c];
      }
    }
  }
}

// A 2-D matrix descriptor: row-major ({rows, cols} tag ab), or the transpose of a row-major buffer (tag ba).
inline memory::desc Matrix(int64_t rows, int64_t cols, bool transposed = false) {
  return memory::desc({rows, cols}, dt::f32, transposed ? tag::ba : tag::ab);
}

// A matmul primitive with its memory objects (data handles set per call), never on oneDNN's GEMM (WithoutGemm).
struct MatmulPrim {
  dnnl::matmul prim;
  memory a, b, bias, c;
  memory::desc scratchpadDesc;

  MatmulPrim(const memory::desc& aDesc, const memory::desc& bDesc, const memory::desc& cDesc, const char* kernel,
             const Geometry& g, bool hasBias = false, int64_t activation = 0, float alpha = 0) {
    dnnl::post_ops po;
    AppendActivation(po, activation, alpha);
    dnnl::primitive_attr attr = UserScratchpad();
    attr.set_post_ops(po);
    const memory::desc biasDesc = hasBias ? Matrix(1, cDesc.dims()[1]) : memory::desc();
    const dnnl::matmul::desc desc(aDesc, bDesc, biasDesc, cDesc);
    auto pd = WithoutGemm(dnnl::matmul::primitive_desc(desc, attr, Engine()));
    RecordImpl(kernel, g.Key(), std::string("im2col+matmul:") + pd.impl_info_str(), false);
    prim = dnnl::matmul(pd);
    a = memory(aDesc, Engine(), nullptr);
    b = memory(bDesc, Engine(), nullptr);
    bias = hasBias ? memory(biasDesc, Engine(), nullptr) : memory();
    c = memory(cDesc, Engine(), nullptr);
    scratchpadDesc = pd.scratchpad_desc();
  }

  void Run(const float* aData, const float* bData, float* cData, const float* biasData = nullptr) {
    a.set_data_handle(const_cast<float*>(aData));
    b.set_data_handle(const_cast<float*>(bData));
    c.set_data_handle(cData);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c},
                                         {DNNL_ARG_SCRATCHPAD, Scratchpad().For(scratchpadDesc)}};
    if (biasData) {
      bias.set_data_handle(const_cast<float*>(biasData));
      args.emplace(DNNL_ARG_BIAS, bias);
    }
    PhaseTimer t(Phases().compute);
    prim.execute(Stream(), args);
    Stream().wait();
  }
};

// y = act(conv(x, w) + bias), NHWC / HWIO.
inline void SmallMapForward(const Geometry& g, const float* x, const float* w, const float* bias, float* y,
                            int64_t activation, float alpha) {
  static Cache<MatmulPrim> cache;
  std::vector<int64_t> key = g.Key();
  AppendFusionKey(key, bias != nullptr, activation, alpha);
  MatmulPrim& mm = cache.Get(key, [&] {
    return MatmulPrim(Matrix(Pixels(g), Taps(g)), Matrix(Taps(g), g.o), Matrix(Pixels(g), g.o), "Conv2D", g,
                      bias != nullptr, activation, alpha);
  });
  mm.Run(ColumnsOf(g, x), w, y, bias);
}

// dx = conv's gradient with respect to x.
inline void SmallMapBackwardData(const Geometry& g, const float* dy, const float* w, float* dx) {
  static Cache<MatmulPrim> cache;
  MatmulPrim& mm = cache.Get(g.Key(), [&] {
    return MatmulPrim(Matrix(Pixels(g), g.o), Matrix(g.o, Taps(g), true), Matrix(Pixels(g), Taps(g)),
                      "Conv2DBackpropInput", g);
  });
  if (Pointwise(g)) return mm.Run(dy, w, dx);
  float* dcols = ColumnsFor(g);
  mm.Run(dy, w, dcols);
  Col2im(g, dcols, dx);
}

// dw = conv's gradient with respect to w, HWIO.
inline void SmallMapBackwardWeights(const Geometry& g, const float* x, const float* dy, float* dw) {
  static Cache<MatmulPrim> cache;
  MatmulPrim& mm = cache.Get(g.Key(), [&] {
    return MatmulPrim(Matrix(Taps(g), Pixels(g), true), Matrix(Pixels(g), g.o), Matrix(Taps(g), g.o),
                      "Conv2DBackpropFilter", g);
  });
  mm.Run(ColumnsOf(g, x), dy, dw);
}

}  // namespace conv
}  // namespace unet
