{
  # -march: "native" for a build on the machine that runs it (npx adm-native-build);
  # scripts/prebuild.mjs passes -Dadm_march=x86-64-v2 / x86-64-v3 for the shipped prebuilt.
  "variables": { "adm_march%": "native" },
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
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=<(adm_march)", "-fopenmp", "-fno-math-errno", "-fno-trapping-math"],
      "libraries": ["-ldnnl", "-fopenmp"],
      # The prebuilt carries libdnnl.so.2, libOpenCL.so.1 and libgomp.so.1 beside the addon.
      # DT_RPATH (not RUNPATH) so that libdnnl's own libOpenCL/libgomp are found there too.
      "ldflags": ["-Wl,--disable-new-dtags", "-Wl,-rpath,'$$ORIGIN'"]
    }
  ]
}
