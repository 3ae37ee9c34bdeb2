// Sum, mean, max and min over any set of axes. Adjacent axes of the same kind (kept or
// reduced) are merged, then the input is scanned once in memory order; threads take
// disjoint slabs of the output, or, when the outermost axis is reduced, partial outputs.
// Sums accumulate in double, like the cpu backend's JavaScript numbers.
#include <omp.h>

#include <cmath>
#include <limits>

#include "common.h"

namespace adm {
namespace {

enum ReduceOp { kSum, kMean, kMax, kMin };

struct Group {
  int64_t size, inStride, outStride;
  bool reduced;
};

template <int Op, typename Acc>
void Scan(const float* x, Acc* acc, const std::vector<Group>& g, size_t level) {
  const Group& d = g[level];
  if (level + 1 == g.size()) {
    const int64_t n = d.size;
    if (d.reduced) {
      if constexpr (Op == kSum || Op == kMean) {
        Acc s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; ++i) s += x[i];
        *acc += s;
      } else if constexpr (Op == kMax) {
        Acc m = *acc;
        for (int64_t i = 0; i < n; ++i) m = (x[i] > m || x[i] != x[i]) ? x[i] : m;
        *acc = m;
      } else {
        Acc m = *acc;
        for (int64_t i = 0; i < n; ++i) m = (x[i] < m || x[i] != x[i]) ? x[i] : m;
        *acc = m;
      }
    } else {
      if constexpr (Op == kSum || Op == kMean) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) acc[i] += x[i];
      } else if constexpr (Op == kMax) {
        for (int64_t i = 0; i < n; ++i) acc[i] = (x[i] > acc[i] || x[i] != x[i]) ? x[i] : acc[i];
      } else {
        for (int64_t i = 0; i < n; ++i) acc[i] = (x[i] < acc[i] || x[i] != x[i]) ? x[i] : acc[i];
      }
    }
    return;
  }
  for (int64_t i = 0; i < d.size; ++i) Scan<Op, Acc>(x + i * d.inStride, acc + i * d.outStride, g, level + 1);
}

template <int Op, typename Acc>
static inline float Finish(Acc v, int64_t count) {
  if constexpr (Op == kMean) return static_cast<float>(v / static_cast<Acc>(count));
  return static_cast<float>(v);
}

template <int Op, typename Acc>
void Reduce(const float* x, float* out, std::vector<Group>& g, int64_t outSize, int64_t count) {
  const Acc init = Op == kMax ? -std::numeric_limits<Acc>::infinity()
                   : Op == kMin ? std::numeric_limits<Acc>::infinity()
                                : Acc(0);
  const int64_t total = count * outSize;
  const int threads = total >= (1 << 15) ? omp_get_max_threads() : 1;
  const Group top = g[0];
  if (!top.reduced) {
    std::vector<Acc> acc(outSize, init);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < top.size; ++i) Scan<Op, Acc>(x + i * top.inStride, acc.data() + i * top.outStride, g, 1);
    for (int64_t i = 0; i < outSize; ++i) out[i] = Finish<Op>(acc[i], count);
  } else {
    std::vector<std::vector<Acc>> partial(threads, std::vector<Acc>(outSize, init));
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      std::vector<Acc>& acc = partial[t];
      const int64_t i0 = top.size * t / nt, i1 = top.size * (t + 1) / nt;
      if (g.size() == 1) {
        std::vector<Group> part = {{i1 - i0, 1, 0, true}};
        if (i1 > i0) Scan<Op, Acc>(x + i0, acc.data(), part, 0);
      } else {
        for (int64_t i = i0; i < i1; ++i) Scan<Op, Acc>(x + i * top.inStride, acc.data(), g, 1);
      }
    }
    for (int64_t i = 0; i < outSize; ++i) {
      Acc v = partial[0][i];
      for (size_t t = 1; t < partial.size(); ++t) {
        Acc p = partial[t][i];
        if constexpr (Op == kSum || Op == kMean) v += p;
        else if constexpr (Op == kMax) v = (p > v || p != p) ? p : v;
        else v = (p < v || p != p) ? p : v;
      }
      out[i] = Finish<Op>(v, count);
    }
  }
}

// reduce(op, x, shape, axes, out) -> out (kept dims in order)
Napi::Value ReduceEntry(const Napi::CallbackInfo& info) {
  int op = static_cast<int>(Int(info[0]));
  const float* x = F32(info[1]);
  auto shape = Ints(info[2]);
  auto axes = Ints(info[3]);
  std::vector<bool> red(shape.size(), false);
  for (int64_t a : axes) red[a] = true;
  // Merge adjacent axes of the same kind, innermost first, dropping size-1 axes.
  std::vector<Group> rev;
  int64_t inStride = 1, outStride = 1, count = 1, outSize = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    int64_t n = shape[i];
    if (red[i]) count *= n; else outSize *= n;
    if (n == 1) continue;
    if (!rev.empty() && rev.back().reduced == red[i]) {
      rev.back().size *= n;
    } else {
      rev.push_back({n, inStride, red[i] ? 0 : outStride, red[i]});
    }
    inStride *= n;
    if (!red[i]) outStride *= n;
  }
  Napi::Float32Array out = Out(info[4], outSize);
  if (count == 1) {  // nothing to reduce: a copy
    std::copy(x, x + outSize, out.Data());
    return out;
  }
  std::vector<Group> g(rev.rbegin(), rev.rend());
  float* o = out.Data();
  switch (op) {
    case kSum: Reduce<kSum, double>(x, o, g, outSize, count); break;
    case kMean: Reduce<kMean, double>(x, o, g, outSize, count); break;
    case kMax: Reduce<kMax, float>(x, o, g, outSize, count); break;
    case kMin: Reduce<kMin, float>(x, o, g, outSize, count); break;
    default: throw Napi::Error::New(info.Env(), "adm_native: unknown reduction " + std::to_string(op));
  }
  return out;
}

}  // namespace

void InitReduction(Napi::Env env, Napi::Object exports) { exports.Set("reduce", Napi::Function::New(env, ReduceEntry)); }

}  // namespace adm
