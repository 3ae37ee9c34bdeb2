// Copy a box of a tensor into a box of another: Slice (box of the input -> whole output) and
// Concat (whole input -> box of the output). Axes the box spans fully in both are merged so
// the inner loop is one contiguous copy; rows are split over the OpenMP threads.
#include <omp.h>

#include <cstring>

#include "common.h"

namespace adm {
namespace {

// copyBlock(src, srcShape, srcBegin, dst, dstShape, dstBegin, size) -> dst
Napi::Value CopyBlock(const Napi::CallbackInfo& info) {
  const float* src = F32(info[0]);
  auto ss = Ints(info[1]), sb = Ints(info[2]);
  float* dst = F32(info[3]);
  auto ds = Ints(info[4]), db = Ints(info[5]), size = Ints(info[6]);
  const size_t r = size.size();
  std::vector<int64_t> sStride(r, 1), dStride(r, 1);
  for (size_t i = r - 1; i-- > 0;) {
    sStride[i] = sStride[i + 1] * ss[i + 1];
    dStride[i] = dStride[i + 1] * ds[i + 1];
  }
  int64_t sOff = 0, dOff = 0;
  for (size_t i = 0; i < r; ++i) {
    sOff += sb[i] * sStride[i];
    dOff += db[i] * dStride[i];
  }
  // Merge an axis into the one inside it when the inner axis is whole in both tensors.
  std::vector<int64_t> n, sst, dst_;
  for (size_t i = 0; i < r; ++i) {
    if (size[i] == 0) return info[3];
    if (size[i] == 1) continue;
    if (!n.empty() && sst.back() == sStride[i] * size[i] && dst_.back() == dStride[i] * size[i]) {
      n.back() *= size[i];
      sst.back() = sStride[i];
      dst_.back() = dStride[i];
      continue;
    }
    n.push_back(size[i]);
    sst.push_back(sStride[i]);
    dst_.push_back(dStride[i]);
  }
  if (n.empty()) {
    dst[dOff] = src[sOff];
    return info[3];
  }
  const int64_t d = static_cast<int64_t>(n.size());
  const int64_t len = n[d - 1], si = sst[d - 1], di = dst_[d - 1];
  int64_t rows = 1;
  for (int64_t i = 0; i < d - 1; ++i) rows *= n[i];
  const int threads = rows * len >= (1 << 15) ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (r0 < r1) {
      std::vector<int64_t> idx(d > 1 ? d - 1 : 1, 0);
      int64_t so = sOff, dO = dOff, rem = r0;
      for (int64_t i = d - 2; i >= 0; --i) {
        idx[i] = rem % n[i];
        rem /= n[i];
        so += idx[i] * sst[i];
        dO += idx[i] * dst_[i];
      }
      for (int64_t row = r0; row < r1; ++row) {
        if (si == 1 && di == 1) {
          std::memcpy(dst + dO, src + so, len * sizeof(float));
        } else {
          for (int64_t k = 0; k < len; ++k) dst[dO + k * di] = src[so + k * si];
        }
        for (int64_t i = d - 2; i >= 0; --i) {
          so += sst[i];
          dO += dst_[i];
          if (++idx[i] < n[i]) break;
          so -= sst[i] * n[i];
          dO -= dst_[i] * n[i];
          idx[i] = 0;
        }
      }
    }
  }
  return info[3];
}

}  // namespace

void InitCopyBlock(Napi::Env env, Napi::Object exports) { exports.Set("copyBlock", Napi::Function::New(env, CopyBlock)); }

}  // namespace adm
