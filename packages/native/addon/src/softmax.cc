// Softmax over the last axis (the only axis TensorFlow.js's Softmax kernel takes): rows in
// parallel, max-shifted, with a vectorised exp.
#include <omp.h>

#include "common.h"

namespace adm {
namespace {

// softmax(logits, rows, depth, out) -> out
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  const int64_t rows = Int(info[1]), depth = Int(info[2]);
  Napi::Float32Array out = Out(info[3], rows * depth);
  float* o = out.Data();
#pragma omp parallel for if (rows * depth >= (1 << 15)) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * depth;
    float* orow = o + r * depth;
    float m = xr[0];
    for (int64_t i = 1; i < depth; ++i) m = xr[i] > m ? xr[i] : m;
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < depth; ++i) {
      float e = FastExp(xr[i] - m);
      orow[i] = e;
      s += e;
    }
    const float inv = 1.0f / s;
#pragma omp simd
    for (int64_t i = 0; i < depth; ++i) orow[i] *= inv;
  }
  return out;
}

}  // namespace

void InitSoftmax(Napi::Env env, Napi::Object exports) { exports.Set("softmax", Napi::Function::New(env, Softmax)); }

}  // namespace adm
