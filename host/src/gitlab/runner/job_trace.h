// JobTrace: a job's log on its way to GitLab — masked, sanitised, stamped, capped, then spooled.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "log/byte_sink.h"
#include "log/limited_sink.h"
#include "log/line_timestamper.h"
#include "log/masking_writer.h"
#include "log/secret_matcher.h"
#include "log/token_sanitizer.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace stagehost::gitlab {

// The chain of gitlab-runner (api reference §7), in the same order: a phrase masker per source
// stream, then token-prefix and URL-parameter sanitising, timestamps, the output limit and the
// spool. Secrets never reach the disk. The spool is append-only; the sender reads any range of it
// with pread while writers go on appending, so memory stays flat whatever the log size.
// Thread-safe: every writer takes one lock.
class JobTrace {
 public:
  struct Options {
    std::vector<std::string> secrets;         // masked variable values, job token
    std::vector<std::string> token_prefixes;  // added to gitlab-runner's defaults
    uint64_t output_limit_bytes = 4ull << 20;
    bool timestamps = true;
    std::string spool_dir;  // where the (unlinked) spool file lives
    // A named spool instead, kept after the trace ends (the job journal's). With `resume`, an
    // existing spool is reopened: its bytes count as already written and new ones are appended.
    std::string spool_path;
    bool resume = false;
    // Pending bytes at which the sender is woken before its tick: a full PATCH is never early.
    uint64_t wake_threshold = 1u << 20;
  };

  static Result<std::unique_ptr<JobTrace>> Create(const Options& options);
  ~JobTrace();

  // Source kRunnerSource is the runner's own lines; each other number is one output stream.
  static constexpr uint32_t kRunnerSource = 0;
  void Write(uint32_t source, std::string_view bytes);
  // Bytes that were already masked (a StageLog in front): they enter after the phrase maskers.
  void WriteMasked(std::string_view bytes);
  // Ends every stream: held partial matches are written, nothing is accepted afterwards.
  void Close();

  int spool_fd() const { return spool_.get(); }
  // Bytes in the spool (readable with pread below this offset).
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  // CRC-32 (IEEE) of everything spooled so far.
  uint32_t crc32() const;
  bool truncated() const;

  // Blocks until `wake_threshold` bytes are pending past `acked`, the trace is closed, `Wake()`
  // is called, or the deadline passes.
  void WaitForData(uint64_t acked, std::chrono::steady_clock::time_point deadline);
  void Wake();

 private:
  class Spool;
  JobTrace() = default;
  void WriteLocked(std::string_view bytes);
  uint64_t GrowthToNotifyLocked();

  mutable std::mutex mutex_;
  std::condition_variable data_cv_;
  bool woken_ = false;
  UniqueFd spool_;
  std::unique_ptr<log::ByteSink> spool_sink_;
  std::unique_ptr<log::LimitedSink> limited_;
  std::unique_ptr<log::LineTimestamper> timestamper_;
  std::unique_ptr<log::TokenSanitizer> sanitizer_;
  std::shared_ptr<const log::SecretMatcher> secrets_;
  std::map<uint32_t, std::unique_ptr<log::MaskingWriter>> maskers_;
  std::atomic<uint64_t> size_{0};
  std::atomic<bool> closed_{false};
  uint32_t crc_ = 0;
  uint64_t last_notified_size_ = 0;
  uint64_t wake_threshold_ = 1u << 20;
};

// gitlab-runner's exact output-limit notice for a limit of `limit_bytes`.
std::string OutputLimitNotice(uint64_t limit_bytes);

}  // namespace stagehost::gitlab
