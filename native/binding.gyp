# One addon per kernel family, so that each family builds, loads and is tested on its own.
# Every family links the system oneDNN (Debian: libdnnl-dev) and OpenMP, which oneDNN also uses,
# so that our loops and oneDNN's primitives share one thread pool.
{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "src"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-fno-trapping-math", "-fexceptions", "-Wall", "-Wno-unused-parameter"],
    "libraries": ["-ldnnl", "-fopenmp"],
  },
  "targets": [
    { "target_name": "unet_conv", "sources": ["<!@(ls -1 src/conv/*.cc)"] },
    { "target_name": "unet_layout", "sources": ["<!@(ls -1 src/layout/*.cc)"] },
    { "target_name": "unet_math", "sources": ["<!@(ls -1 src/math/*.cc)"] },
    { "target_name": "unet_reduce", "sources": ["<!@(ls -1 src/reduce/*.cc)"] },
    { "target_name": "unet_train", "sources": ["<!@(ls -1 src/train/*.cc)"] }
  ]
}
