{
  "variables": {
    "adm_march%": "x86-64-v3"
  },
  "targets": [
    {
      "target_name": "adm_native",
      "sources": [
        "src/addon.cc",
        "src/convolution.cc",
        "src/matmul.cc",
        "src/elementwise.cc",
        "src/reduction.cc",
        "src/softmax.cc",
        "src/transpose.cc",
        "src/group-norm.cc",
        "src/copy-block.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_CPP_EXCEPTIONS",
        "NAPI_VERSION=8"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-fno-rtti"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-march=<(adm_march)",
        "-fopenmp",
        "-fno-math-errno",
        "-fno-trapping-math"
      ],
      "libraries": [
        "-ldnnl",
        "-fopenmp"
      ],
      "ldflags": [
        "-Wl,--disable-new-dtags",
        "-Wl,-rpath,'$$ORIGIN'"
      ]
    }
  ]
}