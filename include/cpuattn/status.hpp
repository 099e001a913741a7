// Result of every cpuattn call: a code and, on failure, a message naming the argument at fault.
#pragma once

#include <string>
#include <utility>

namespace cpuattn {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,
  kOutOfMemory = 2,
  kUnsupported = 3,
  kInternal = 4,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) {
    return Status(StatusCode::kInvalidArgument, std::move(m));
  }
  static Status out_of_memory(std::string m) {
    return Status(StatusCode::kOutOfMemory, std::move(m));
  }
  static Status unsupported(std::string m) {
    return Status(StatusCode::kUnsupported, std::move(m));
  }
  static Status internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace cpuattn

// Early return of a failed Status from a function that itself returns Status.
#define CPUATTN_RETURN_IF_ERROR(expr)                             \
  do {                                                            \
    ::cpuattn::Status cpuattn_status_tmp_ = (expr);               \
    if (!cpuattn_status_tmp_.is_ok()) return cpuattn_status_tmp_; \
  } while (0)
