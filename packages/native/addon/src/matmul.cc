// Batched matrix products through oneDNN's matmul: transposes are strides (no copy), a batch
// of 1 on either side broadcasts, an optional bias row and ReLU are fused.
#include <memory>
#include <unordered_map>

#include "common.h"

namespace adm {
namespace {

using dnnl::memory;
constexpr auto f32 = memory::data_type::f32;

struct Plan {
  dnnl::matmul prim;
  memory::desc a, b, c, bias;
};

std::unordered_map<std::string, std::unique_ptr<Plan>> plans;

// matmul(a, b, bias|null, activation, batchA, batchB, m, k, n, transposeA, transposeB, c) -> c [max(batch), m, n]
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  float* a = F32(info[0]);
  float* b = F32(info[1]);
  float* bias = info[2].IsNull() || info[2].IsUndefined() ? nullptr : F32(info[2]);
  int64_t activation = Int(info[3]);
  int64_t ba = Int(info[4]), bb = Int(info[5]), m = Int(info[6]), k = Int(info[7]), n = Int(info[8]);
  bool ta = info[9].As<Napi::Boolean>(), tb = info[10].As<Napi::Boolean>();
  int64_t batch = std::max(ba, bb);
  std::string key = Key({ba, bb, m, k, n, ta, tb, bias != nullptr, activation});
  auto it = plans.find(key);
  if (it == plans.end()) {
    auto plan = std::make_unique<Plan>();
    plan->a = memory::desc({ba, m, k}, f32, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    plan->b = memory::desc({bb, k, n}, f32, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    plan->c = memory::desc({batch, m, n}, f32, memory::dims{m * n, n, 1});
    plan->bias = memory::desc({1, 1, n}, f32, memory::dims{n, n, 1});
    dnnl::primitive_attr attr;
    if (activation == 1) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::desc d = bias ? dnnl::matmul::desc(plan->a, plan->b, plan->bias, plan->c)
                                : dnnl::matmul::desc(plan->a, plan->b, plan->c);
    plan->prim = dnnl::matmul(dnnl::matmul::primitive_desc(d, attr, Engine()));
    it = plans.emplace(key, std::move(plan)).first;
  }
  Plan& plan = *it->second;
  Napi::Float32Array c = Out(info[11], batch * m * n);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, memory(plan.a, Engine(), a)},
                                          {DNNL_ARG_WEIGHTS, memory(plan.b, Engine(), b)},
                                          {DNNL_ARG_DST, memory(plan.c, Engine(), c.Data())}};
  if (bias) args[DNNL_ARG_BIAS] = memory(plan.bias, Engine(), bias);
  auto& s = Stream();
  plan.prim.execute(s, args);
  s.wait();
  return c;
}

}  // namespace

void InitMatmul(Napi::Env env, Napi::Object exports) { exports.Set("matmul", Napi::Function::New(env, Matmul)); }

}  // namespace adm
