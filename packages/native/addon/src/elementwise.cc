// Elementwise kernels with NumPy broadcasting, vectorised and split over the OpenMP threads.
// The cpu backend computes a broadcast index per element in JavaScript; here the shapes are
// collapsed to a few strided loops whose inner loop is contiguous or a broadcast scalar.
#include <omp.h>

#include <cmath>

#include "common.h"

namespace adm {
namespace {

constexpr int64_t kParallelMin = 1 << 15;

enum BinaryOp { kAdd, kSub, kMul, kDiv, kSquaredDifference, kMaximum, kMinimum };
enum UnaryOp { kNeg, kExp, kSqrt, kRsqrt, kSquare, kSigmoid, kRelu, kAbs, kReciprocal, kSilu };

template <int Op>
static inline float Apply(float a, float b) {
  if constexpr (Op == kAdd) return a + b;
  if constexpr (Op == kSub) return a - b;
  if constexpr (Op == kMul) return a * b;
  if constexpr (Op == kDiv) return a / b;
  if constexpr (Op == kSquaredDifference) return (a - b) * (a - b);
  if constexpr (Op == kMaximum) return (a != a || b != b) ? a + b : (a > b ? a : b);
  if constexpr (Op == kMinimum) return (a != a || b != b) ? a + b : (a < b ? a : b);
  return 0.f;
}

template <int Op>
void Row(const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t len) {
  if (sa == 1 && sb == 1) {
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) out[i] = Apply<Op>(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float bv = *b;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) out[i] = Apply<Op>(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = *a;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) out[i] = Apply<Op>(av, b[i]);
  } else {
    for (int64_t i = 0; i < len; ++i) out[i] = Apply<Op>(a[i * sa], b[i * sb]);
  }
}

/** Dims of the output with each input's element stride (0 where broadcast), merged where possible. */
struct Broadcast {
  std::vector<int64_t> size, sa, sb;
};

Broadcast Collapse(const std::vector<int64_t>& as, const std::vector<int64_t>& bs, const std::vector<int64_t>& os) {
  size_t r = os.size();
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  int64_t ka = 1, kb = 1;
  for (size_t i = r; i-- > 0;) {
    size_t ia = i + as.size() - r, ib = i + bs.size() - r;  // right-aligned; wraps when absent
    int64_t da = i + as.size() >= r ? as[ia] : 1, db = i + bs.size() >= r ? bs[ib] : 1;
    sa[i] = da == 1 ? 0 : ka;
    sb[i] = db == 1 ? 0 : kb;
    ka *= da;
    kb *= db;
  }
  Broadcast c;
  for (size_t i = 0; i < r; ++i) {
    if (os[i] == 1) continue;
    if (!c.size.empty()) {
      int64_t n = os[i];
      bool mergeA = c.sa.back() == sa[i] * n, mergeB = c.sb.back() == sb[i] * n;
      if (mergeA && mergeB) {
        c.size.back() *= n;
        c.sa.back() = sa[i];
        c.sb.back() = sb[i];
        continue;
      }
    }
    c.size.push_back(os[i]);
    c.sa.push_back(sa[i]);
    c.sb.push_back(sb[i]);
  }
  if (c.size.empty()) c = {{1}, {0}, {0}};
  return c;
}

template <int Op>
void RunBinary(const float* a, const float* b, float* out, const Broadcast& c) {
  const int64_t d = static_cast<int64_t>(c.size.size());
  const int64_t len = c.size[d - 1], sa = c.sa[d - 1], sb = c.sb[d - 1];
  int64_t rows = 1;
  for (int64_t i = 0; i < d - 1; ++i) rows *= c.size[i];
  const int64_t total = rows * len;
  const int threads = total >= kParallelMin ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (r0 < r1) {
      // Multi-index of row r0 over the outer dims, then an odometer.
      std::vector<int64_t> idx(d > 1 ? d - 1 : 1, 0);
      int64_t offA = 0, offB = 0, rem = r0;
      for (int64_t i = d - 2; i >= 0; --i) {
        idx[i] = rem % c.size[i];
        rem /= c.size[i];
        offA += idx[i] * c.sa[i];
        offB += idx[i] * c.sb[i];
      }
      for (int64_t r = r0; r < r1; ++r) {
        Row<Op>(a + offA, sa, b + offB, sb, out + r * len, len);
        for (int64_t i = d - 2; i >= 0; --i) {
          offA += c.sa[i];
          offB += c.sb[i];
          if (++idx[i] < c.size[i]) break;
          offA -= c.sa[i] * c.size[i];
          offB -= c.sb[i] * c.size[i];
          idx[i] = 0;
        }
      }
    }
  }
}

// binary(op, a, aShape, b, bShape, outShape, out) -> out
Napi::Value Binary(const Napi::CallbackInfo& info) {
  int op = static_cast<int>(Int(info[0]));
  const float* a = F32(info[1]);
  const float* b = F32(info[3]);
  auto os = Ints(info[5]);
  Broadcast c = Collapse(Ints(info[2]), Ints(info[4]), os);
  Napi::Float32Array out = Out(info[6], Product(os));
  float* o = out.Data();
  switch (op) {
    case kAdd: RunBinary<kAdd>(a, b, o, c); break;
    case kSub: RunBinary<kSub>(a, b, o, c); break;
    case kMul: RunBinary<kMul>(a, b, o, c); break;
    case kDiv: RunBinary<kDiv>(a, b, o, c); break;
    case kSquaredDifference: RunBinary<kSquaredDifference>(a, b, o, c); break;
    case kMaximum: RunBinary<kMaximum>(a, b, o, c); break;
    case kMinimum: RunBinary<kMinimum>(a, b, o, c); break;
    default: throw Napi::Error::New(info.Env(), "adm_native: unknown binary op " + std::to_string(op));
  }
  return out;
}

template <int Op>
static inline float ApplyUnary(float x) {
  if constexpr (Op == kNeg) return -x;
  if constexpr (Op == kExp) return FastExp(x);
  if constexpr (Op == kSqrt) return std::sqrt(x);
  if constexpr (Op == kRsqrt) return 1.0f / std::sqrt(x);
  if constexpr (Op == kSquare) return x * x;
  if constexpr (Op == kSigmoid) return Sigmoid(x);
  if constexpr (Op == kRelu) return x < 0.f ? 0.f : x;
  if constexpr (Op == kAbs) return std::fabs(x);
  if constexpr (Op == kReciprocal) return 1.0f / x;
  if constexpr (Op == kSilu) return x * Sigmoid(x);
  return 0.f;
}

template <int Op>
void RunUnary(const float* x, float* out, int64_t n) {
#pragma omp parallel for simd if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = ApplyUnary<Op>(x[i]);
}

// unary(op, x, out) -> out
Napi::Value Unary(const Napi::CallbackInfo& info) {
  int op = static_cast<int>(Int(info[0]));
  const float* x = F32(info[1]);
  int64_t n = static_cast<int64_t>(Length(info[1]));
  Napi::Float32Array out = Out(info[2], n);
  float* o = out.Data();
  switch (op) {
    case kNeg: RunUnary<kNeg>(x, o, n); break;
    case kExp: RunUnary<kExp>(x, o, n); break;
    case kSqrt: RunUnary<kSqrt>(x, o, n); break;
    case kRsqrt: RunUnary<kRsqrt>(x, o, n); break;
    case kSquare: RunUnary<kSquare>(x, o, n); break;
    case kSigmoid: RunUnary<kSigmoid>(x, o, n); break;
    case kRelu: RunUnary<kRelu>(x, o, n); break;
    case kAbs: RunUnary<kAbs>(x, o, n); break;
    case kReciprocal: RunUnary<kReciprocal>(x, o, n); break;
    case kSilu: RunUnary<kSilu>(x, o, n); break;
    default: throw Napi::Error::New(info.Env(), "adm_native: unknown unary op " + std::to_string(op));
  }
  return out;
}

// siluGrad(x, dy, dx) -> dx: dy * d/dx[x * sigmoid(x)] = dy * s * (1 + x * (1 - s)), one pass.
Napi::Value SiluGrad(const Napi::CallbackInfo& info) {
  const float* x = F32(info[0]);
  const float* dy = F32(info[1]);
  const int64_t n = static_cast<int64_t>(Length(info[0]));
  Napi::Float32Array out = Out(info[2], n);
  float* o = out.Data();
#pragma omp parallel for simd if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float s = Sigmoid(x[i]);
    o[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
  }
  return out;
}

}  // namespace

void InitElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("siluGrad", Napi::Function::New(env, SiluGrad));
}

}  // namespace adm
