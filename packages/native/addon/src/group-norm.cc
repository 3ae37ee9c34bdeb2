// GroupNorm with its affine part and an optional SiLU, forward and backward in two passes
// over the activations each (the paper's implementation fused these too). Activations are
// channels-last [batch, spatial, channels]; statistics are per sample and group.
#include <omp.h>

#include <cmath>

#include "common.h"

namespace adm {
namespace {

struct Shape {
  int64_t n, s, c, groups, cg;
};

Shape ShapeFrom(const Napi::CallbackInfo& info, size_t at) {
  Shape sh{Int(info[at]), Int(info[at + 1]), Int(info[at + 2]), Int(info[at + 3]), 0};
  sh.cg = sh.c / sh.groups;
  return sh;
}

// groupNormForward(x, gamma, beta, n, s, c, groups, eps, silu, y, mean, rstd) -> [y, mean, rstd]
Napi::Value Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const float* x = F32(info[0]);
  const float* gamma = F32(info[1]);
  const float* beta = F32(info[2]);
  Shape sh = ShapeFrom(info, 3);
  const double eps = info[7].As<Napi::Number>().DoubleValue();
  const bool silu = info[8].As<Napi::Boolean>();
  const int64_t n = sh.n, s = sh.s, c = sh.c, G = sh.groups, cg = sh.cg;
  Napi::Float32Array y = Out(info[9], n * s * c), mean = Out(info[10], n * G), rstd = Out(info[11], n * G);
  float* yo = y.Data();
  float* mo = mean.Data();
  float* ro = rstd.Data();
  std::vector<float> scale(n * c), shift(n * c);
  const int threads = n * s * c >= (1 << 15) ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> acc(c);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < n; ++b) {
      const float* xb = x + b * s * c;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t p = 0; p < s; ++p) {
#pragma omp simd
        for (int64_t k = 0; k < c; ++k) acc[k] += xb[p * c + k];
      }
      std::vector<float> mu(G), muC(c);
      for (int64_t g = 0; g < G; ++g) {
        double t = 0;
        for (int64_t k = 0; k < cg; ++k) t += acc[g * cg + k];
        mu[g] = static_cast<float>(t / (s * cg));
        for (int64_t k = 0; k < cg; ++k) muC[g * cg + k] = mu[g];
      }
      // Second pass for the variance: as accurate as the two-pass moments of the cpu backend.
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t p = 0; p < s; ++p) {
#pragma omp simd
        for (int64_t k = 0; k < c; ++k) {
          double d = xb[p * c + k] - muC[k];
          acc[k] += d * d;
        }
      }
      for (int64_t g = 0; g < G; ++g) {
        double t = 0;
        for (int64_t k = 0; k < cg; ++k) t += acc[g * cg + k];
        float r = static_cast<float>(1.0 / std::sqrt(t / (s * cg) + eps));
        mo[b * G + g] = mu[g];
        ro[b * G + g] = r;
        for (int64_t k = 0; k < cg; ++k) {
          int64_t ch = g * cg + k;
          scale[b * c + ch] = r * gamma[ch];
          shift[b * c + ch] = beta[ch] - mu[g] * r * gamma[ch];
        }
      }
    }
#pragma omp for schedule(static)
    for (int64_t row = 0; row < n * s; ++row) {
      const int64_t b = row / s;
      const float* xr = x + row * c;
      float* yr = yo + row * c;
      const float* a = scale.data() + b * c;
      const float* h = shift.data() + b * c;
      if (silu) {
#pragma omp simd
        for (int64_t k = 0; k < c; ++k) {
          float v = xr[k] * a[k] + h[k];
          yr[k] = v * Sigmoid(v);
        }
      } else {
#pragma omp simd
        for (int64_t k = 0; k < c; ++k) yr[k] = xr[k] * a[k] + h[k];
      }
    }
  }
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, y);
  out.Set(1u, mean);
  out.Set(2u, rstd);
  return out;
}

// groupNormBackward(dy, x, gamma, beta, mean, rstd, n, s, c, groups, silu, dx, dgamma, dbeta) -> [dx, dgamma, dbeta]
Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const float* dy = F32(info[0]);
  const float* x = F32(info[1]);
  const float* gamma = F32(info[2]);
  const float* beta = F32(info[3]);
  const float* mean = F32(info[4]);
  const float* rstd = F32(info[5]);
  Shape sh = ShapeFrom(info, 6);
  const bool silu = info[10].As<Napi::Boolean>();
  const int64_t n = sh.n, s = sh.s, c = sh.c, G = sh.groups, cg = sh.cg;
  Napi::Float32Array dx = Out(info[11], n * s * c), dgamma = Out(info[12], c), dbeta = Out(info[13], c);
  float* dxo = dx.Data();
  // Per sample and channel: sum of dz and of dz * xhat (dz: gradient at the affine output).
  std::vector<double> s1(n * c, 0.0), s2(n * c, 0.0);
  std::vector<float> m1(n * G), m2(n * G), coefA(n * c), coefB(n * c), coefC(n * c);
  const int threads = n * s * c >= (1 << 15) ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static)
    for (int64_t b = 0; b < n; ++b) {
      std::vector<float> mu(c), r(c);
      for (int64_t k = 0; k < c; ++k) {
        mu[k] = mean[b * G + k / cg];
        r[k] = rstd[b * G + k / cg];
      }
      double* a1 = s1.data() + b * c;
      double* a2 = s2.data() + b * c;
      for (int64_t p = 0; p < s; ++p) {
        const int64_t o = (b * s + p) * c;
        const float* xr = x + o;
        const float* dyr = dy + o;
        float* dzr = dxo + o;  // dz is kept in dx until the second pass
        // Two loops rather than a branch inside one, so both vectorise.
        if (silu) {
#pragma omp simd
          for (int64_t k = 0; k < c; ++k) {
            float xhat = (xr[k] - mu[k]) * r[k];
            float v = xhat * gamma[k] + beta[k];
            float sg = Sigmoid(v);
            float dz = dyr[k] * sg * (1.0f + v * (1.0f - sg));
            dzr[k] = dz;
            a1[k] += dz;
            a2[k] += dz * xhat;
          }
        } else {
#pragma omp simd
          for (int64_t k = 0; k < c; ++k) {
            float xhat = (xr[k] - mu[k]) * r[k];
            float dz = dyr[k];
            dzr[k] = dz;
            a1[k] += dz;
            a2[k] += dz * xhat;
          }
        }
      }
      for (int64_t g = 0; g < G; ++g) {
        double t1 = 0, t2 = 0;
        for (int64_t k = g * cg; k < (g + 1) * cg; ++k) {
          t1 += gamma[k] * a1[k];
          t2 += gamma[k] * a2[k];
        }
        m1[b * G + g] = static_cast<float>(t1 / (s * cg));
        m2[b * G + g] = static_cast<float>(t2 / (s * cg));
      }
    }
#pragma omp single
    {
      // dx = rstd * (dz * gamma - m1 - xhat * m2) = dz * A + x * B + C per sample and channel.
      for (int64_t b = 0; b < n; ++b) {
        for (int64_t k = 0; k < c; ++k) {
          const int64_t g = b * G + k / cg;
          const float r = rstd[g];
          coefA[b * c + k] = r * gamma[k];
          coefB[b * c + k] = -r * r * m2[g];
          coefC[b * c + k] = -r * m1[g] + mean[g] * r * r * m2[g];
        }
      }
    }
#pragma omp for schedule(static)
    for (int64_t row = 0; row < n * s; ++row) {
      const int64_t b = row / s;
      const float* xr = x + row * c;
      float* d = dxo + row * c;
      const float* A = coefA.data() + b * c;
      const float* B = coefB.data() + b * c;
      const float* C = coefC.data() + b * c;
#pragma omp simd
      for (int64_t k = 0; k < c; ++k) d[k] = d[k] * A[k] + xr[k] * B[k] + C[k];
    }
  }
  float* dg = dgamma.Data();
  float* db = dbeta.Data();
  for (int64_t k = 0; k < c; ++k) {
    double t1 = 0, t2 = 0;
    for (int64_t b = 0; b < n; ++b) {
      t1 += s1[b * c + k];
      t2 += s2[b * c + k];
    }
    db[k] = static_cast<float>(t1);
    dg[k] = static_cast<float>(t2);
  }
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, dx);
  out.Set(1u, dgamma);
  out.Set(2u, dbeta);
  return out;
}

}  // namespace

void InitGroupNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("groupNormForward", Napi::Function::New(env, Forward));
  exports.Set("groupNormBackward", Napi::Function::New(env, Backward));
}

}  // namespace adm
