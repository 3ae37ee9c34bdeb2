// Output buffers for kernels. A fresh zeroed 8 MB array costs 1-3 ms in page faults, as much
// as the convolution that fills it; buffers released by the garbage collector are kept
// (by size, up to a cap) and handed to the next kernel that needs that size.
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "common.h"

namespace adm {
namespace {

constexpr size_t kAlign = 64;
size_t capBytes = size_t(1) << 30;

struct Pool {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free;
  size_t pooledBytes = 0;
  size_t hits = 0, misses = 0;
};

Pool& ThePool() {
  static Pool* pool = new Pool();  // never destroyed: finalizers may run during exit
  return *pool;
}

void Release(Napi::Env, void* data, size_t* bytes) {
  Pool& p = ThePool();
  size_t n = *bytes;
  delete bytes;
  std::lock_guard<std::mutex> lock(p.mutex);
  if (p.pooledBytes + n <= capBytes) {
    p.free[n].push_back(data);
    p.pooledBytes += n;
  } else {
    std::free(data);
  }
}

}  // namespace

Napi::Float32Array NewOutput(Napi::Env env, size_t n) {
  size_t bytes = ((std::max<size_t>(n, 1) * sizeof(float) + kAlign - 1) / kAlign) * kAlign;
  void* data = nullptr;
  Pool& p = ThePool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    auto it = p.free.find(bytes);
    if (it != p.free.end() && !it->second.empty()) {
      data = it->second.back();
      it->second.pop_back();
      p.pooledBytes -= bytes;
      ++p.hits;
    } else {
      ++p.misses;
    }
  }
  if (!data) {
    data = std::aligned_alloc(kAlign, bytes);
    if (!data) throw Napi::Error::New(env, "adm_native: out of memory allocating " + std::to_string(bytes) + " bytes");
  }
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, data, bytes, Release, new size_t(bytes));
  return Napi::Float32Array::New(env, n, ab, 0);
}

static Napi::Value PoolStats(const Napi::CallbackInfo& info) {
  Pool& p = ThePool();
  std::lock_guard<std::mutex> lock(p.mutex);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("pooledBytes", static_cast<double>(p.pooledBytes));
  o.Set("hits", static_cast<double>(p.hits));
  o.Set("misses", static_cast<double>(p.misses));
  return o;
}

static Napi::Value SetPoolCap(const Napi::CallbackInfo& info) {
  Pool& p = ThePool();
  std::lock_guard<std::mutex> lock(p.mutex);
  capBytes = static_cast<size_t>(Int(info[0]));
  for (auto& [size, list] : p.free) {
    while (!list.empty() && p.pooledBytes > capBytes) {
      std::free(list.back());
      list.pop_back();
      p.pooledBytes -= size;
    }
  }
  return info.Env().Undefined();
}

void InitBufferPool(Napi::Env env, Napi::Object exports) {
  exports.Set("poolStats", Napi::Function::New(env, PoolStats));
  exports.Set("setPoolCap", Napi::Function::New(env, SetPoolCap));
}

}  // namespace adm
