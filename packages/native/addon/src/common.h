// Shared helpers of the adm_native addon: the oneDNN engine and stream, argument
// unpacking from JavaScript, and pooled output buffers.
#pragma once
#include <napi.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace adm {

dnnl::engine& Engine();
dnnl::stream& Stream();


inline float* F32(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), "adm_native: expected a Float32Array");
  return v.As<Napi::Float32Array>().Data();
}

/**
 * The output array the caller passed: JavaScript owns output memory so that it can reuse
 * the buffers of disposed tensors (see src/output-pool.ts).
 */
inline Napi::Float32Array Out(const Napi::Value& v, size_t n) {
  float* check = F32(v);
  (void)check;
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != n)
    throw Napi::RangeError::New(v.Env(), "adm_native: output has " + std::to_string(a.ElementLength()) + " elements, expected " + std::to_string(n));
  return a;
}

inline size_t Length(const Napi::Value& v) { return v.As<Napi::Float32Array>().ElementLength(); }

inline int64_t Int(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }

inline std::vector<int64_t> Ints(const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

inline int64_t Product(const std::vector<int64_t>& d) {
  int64_t p = 1;
  for (int64_t x : d) p *= x;
  return p;
}

/** A cache key from integers (shapes, strides, flags). */
inline std::string Key(std::initializer_list<int64_t> parts) {
  std::string k;
  for (int64_t p : parts) k += std::to_string(p) + ',';
  return k;
}

/**
 * exp(x) for float that the compiler vectorises (Cephes-style range reduction, ~2 ulp);
 * written without int->float rounding tricks, which kept GCC from vectorising it (20x slower).
 */
static inline float FastExp(float x0) {
  float x = x0 < -87.0f ? -87.0f : x0;
  x = x > 88.0f ? 88.0f : x;
  float t = x * 1.44269504088896341f;
  float fl = __builtin_floorf(t + 0.5f);
  float r = x - fl * 0.693359375f + fl * 2.12194440e-4f;
  float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  int32_t e = (static_cast<int32_t>(fl) + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &e, 4);
  float y = p * scale;
  y = x0 > 88.72283935546875f ? __builtin_inff() : y;
  y = x0 < -87.33654475f ? 0.0f : y;
  return x0 != x0 ? x0 : y;
}

static inline float Sigmoid(float x) { return 1.0f / (1.0f + FastExp(-x)); }

void InitConvolution(Napi::Env env, Napi::Object exports);
void InitMatmul(Napi::Env env, Napi::Object exports);
void InitElementwise(Napi::Env env, Napi::Object exports);
void InitReduction(Napi::Env env, Napi::Object exports);
void InitSoftmax(Napi::Env env, Napi::Object exports);
void InitTranspose(Napi::Env env, Napi::Object exports);
void InitGroupNorm(Napi::Env env, Napi::Object exports);
void InitCopyBlock(Napi::Env env, Napi::Object exports);

}  // namespace adm
