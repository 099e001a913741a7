// Scratch memory that outlives calls. The first write to a fresh page costs ~11 us on the target
// machines (shared/PEERS.md), so a context keeps its buffers and hands them to the next call:
// after the first call of a shape, nothing on the hot path allocates.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "cpuattn/status.hpp"

namespace cpuattn::detail {

// 64-byte aligned floats that grow on request and never shrink.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // False if the allocation failed (the old contents are kept).
  bool reserve(std::size_t floats);
  float* data() const { return data_; }
  std::size_t capacity() const { return capacity_; }

 private:
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// What one call uses: a shared region and one region per worker thread.
class Workspace {
 public:
  explicit Workspace(int workers) : per_worker_(static_cast<std::size_t>(workers)) {}
  // Sizes in floats, each rounded up to 64 bytes. Fails (out of memory) beyond limit_bytes in all.
  Status reserve(std::size_t shared_floats, std::size_t per_worker_floats, std::size_t limit_bytes);
  float* shared() const { return shared_.data(); }
  float* worker(int index) const { return per_worker_[static_cast<std::size_t>(index)].data(); }

 private:
  AlignedBuffer shared_;
  std::vector<AlignedBuffer> per_worker_;
};

// Workspaces for concurrent calls on one context: a call leases one (creating it only when all are
// in use) and returns it when done.
class ScratchPool {
 public:
  explicit ScratchPool(int workers) : workers_(workers) {}

  class Lease {
   public:
    Lease(ScratchPool* pool, std::unique_ptr<Workspace> ws) : pool_(pool), ws_(std::move(ws)) {}
    ~Lease() {
      if (ws_) pool_->give_back(std::move(ws_));
    }
    Lease(Lease&&) = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    Workspace& operator*() const { return *ws_; }
    Workspace* operator->() const { return ws_.get(); }

   private:
    ScratchPool* pool_;
    std::unique_ptr<Workspace> ws_;
  };

  Lease acquire();

 private:
  void give_back(std::unique_ptr<Workspace> ws);

  int workers_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Workspace>> free_;
};

}  // namespace cpuattn::detail
