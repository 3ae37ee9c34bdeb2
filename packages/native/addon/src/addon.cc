// Entry of the adm_native addon: one oneDNN CPU engine and in-order stream for the process.
#include <omp.h>

#include "common.h"

namespace adm {

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& Stream() {
  static dnnl::stream stream(Engine());
  return stream;
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  const dnnl_version_t* v = dnnl_version();
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
  o.Set("threads", omp_get_max_threads());
  o.Set("isa", static_cast<int>(dnnl::get_effective_cpu_isa()));
  return o;
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  omp_set_num_threads(static_cast<int>(Int(info[0])));
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  InitConvolution(env, exports);
  InitMatmul(env, exports);
  InitElementwise(env, exports);
  InitReduction(env, exports);
  InitSoftmax(env, exports);
  InitTranspose(env, exports);
  InitGroupNorm(env, exports);
  InitCopyBlock(env, exports);
  return exports;
}

}  // namespace adm

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return adm::Init(env, exports); }

NODE_API_MODULE(adm_native, InitAddon)
