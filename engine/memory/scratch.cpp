#include "memory/scratch.hpp"

#include <cstdlib>
#include <string>

namespace cpuattn::detail {
namespace {
constexpr std::size_t kAlignFloats = 16;  // 64 bytes
std::size_t round_up_floats(std::size_t n) {
  return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}
}  // namespace

AlignedBuffer::~AlignedBuffer() {
  std::free(data_);
}

bool AlignedBuffer::reserve(std::size_t floats) {
  if (floats <= capacity_) return true;
  if (floats > (SIZE_MAX / sizeof(float)) - 64) return false;
  void* p = nullptr;
  if (posix_memalign(&p, 64, round_up_floats(floats) * sizeof(float)) != 0 || p == nullptr) {
    return false;
  }
  std::free(data_);
  data_ = static_cast<float*>(p);
  capacity_ = round_up_floats(floats);
  return true;
}

Status Workspace::reserve(std::size_t shared_floats, std::size_t per_worker_floats,
                          std::size_t limit_bytes) {
  const std::size_t workers = per_worker_.size();
  const std::size_t max_floats = limit_bytes / sizeof(float);
  const std::size_t shared = round_up_floats(shared_floats);
  const std::size_t each = round_up_floats(per_worker_floats);
  if (shared_floats > max_floats || per_worker_floats > max_floats ||
      (workers > 0 && each > (max_floats - shared) / workers)) {
    return Status::out_of_memory(
        "scratch of " + std::to_string(shared_floats) + " + " + std::to_string(workers) + " x " +
        std::to_string(per_worker_floats) +
        " floats exceeds the context's scratch_limit_bytes of " + std::to_string(limit_bytes));
  }
  if (!shared_.reserve(shared)) {
    return Status::out_of_memory("allocating " + std::to_string(shared * sizeof(float)) +
                                 " bytes of shared scratch failed");
  }
  for (AlignedBuffer& b : per_worker_) {
    if (!b.reserve(each)) {
      return Status::out_of_memory("allocating " + std::to_string(each * sizeof(float)) +
                                   " bytes of per-thread scratch failed");
    }
  }
  return Status::ok();
}

ScratchPool::Lease ScratchPool::acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      std::unique_ptr<Workspace> ws = std::move(free_.back());
      free_.pop_back();
      return Lease(this, std::move(ws));
    }
  }
  return Lease(this, std::make_unique<Workspace>(workers_));
}

void ScratchPool::give_back(std::unique_ptr<Workspace> ws) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(ws));
}

}  // namespace cpuattn::detail
