// Transpose (any permutation): axes that stay adjacent are merged, then rows of the output
// are gathered in parallel, contiguous when the innermost axis is kept.
#include <omp.h>

#include <cstring>

#include "common.h"

namespace adm {
namespace {

// transpose(x, shape, perm, out) -> out
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  auto shape = Ints(info[1]);
  auto perm = Ints(info[2]);
  const size_t r = shape.size();
  std::vector<int64_t> inStride(r, 1);
  for (size_t i = r - 1; i-- > 0;) inStride[i] = inStride[i + 1] * shape[i + 1];
  // Output axes with their input strides, merging runs perm[i+1] == perm[i] + 1 and dropping size 1.
  std::vector<int64_t> size, stride;
  for (size_t i = 0; i < r; ++i) {
    int64_t p = perm[i], n = shape[p];
    if (n == 1) continue;
    if (!size.empty() && stride.back() == inStride[p] * n) {
      size.back() *= n;
      stride.back() = inStride[p];
      continue;
    }
    size.push_back(n);
    stride.push_back(inStride[p]);
  }
  const int64_t total = Product(shape);
  Napi::Float32Array out = Out(info[3], total);
  float* o = out.Data();
  if (size.size() <= 1) {
    std::memcpy(o, x, total * sizeof(float));
    return out;
  }
  const int64_t d = static_cast<int64_t>(size.size());
  const int64_t len = size[d - 1], s = stride[d - 1];
  const int64_t rows = total / len;
  const int threads = total >= (1 << 15) ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (r0 < r1) {
      std::vector<int64_t> idx(d - 1, 0);
      int64_t off = 0, rem = r0;
      for (int64_t i = d - 2; i >= 0; --i) {
        idx[i] = rem % size[i];
        rem /= size[i];
        off += idx[i] * stride[i];
      }
      for (int64_t row = r0; row < r1; ++row) {
        float* dst = o + row * len;
        const float* src = x + off;
        if (s == 1) {
          std::memcpy(dst, src, len * sizeof(float));
        } else {
          for (int64_t i = 0; i < len; ++i) dst[i] = src[i * s];
        }
        for (int64_t i = d - 2; i >= 0; --i) {
          off += stride[i];
          if (++idx[i] < size[i]) break;
          off -= stride[i] * size[i];
          idx[i] = 0;
        }
      }
    }
  }
  return out;
}

}  // namespace

void InitTranspose(Napi::Env env, Napi::Object exports) { exports.Set("transpose", Napi::Function::New(env, Transpose)); }

}  // namespace adm
