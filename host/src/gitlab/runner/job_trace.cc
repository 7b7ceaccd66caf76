// JobTrace: the per-job log chain and its on-disk spool with a running CRC-32.
#include "gitlab/runner/job_trace.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>

namespace stagehost::gitlab {

std::string OutputLimitNotice(uint64_t limit_bytes) {
  return fmt::format(
      "\n\x1b[33;1mJob's log exceeded limit of {} bytes.\n"
      "Job execution will continue but no more output will be collected.\x1b[0;m\n",
      limit_bytes);
}

// The end of the chain: appends to the spool file and keeps the count and the CRC.
class JobTrace::Spool : public log::ByteSink {
 public:
  explicit Spool(JobTrace* trace) : trace_(trace) {}

  Status Write(std::string_view bytes) override {
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      ssize_t n = ::write(trace_->spool_.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("writing the trace spool", errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    trace_->crc_ = static_cast<uint32_t>(
        ::crc32_z(trace_->crc_, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
    trace_->size_.fetch_add(bytes.size(), std::memory_order_release);
    return Status::Ok();
  }

 private:
  JobTrace* trace_;
};

namespace {

Result<UniqueFd> OpenSpool(const JobTrace::Options& options) {
  if (!options.spool_path.empty()) {
    int flags = O_RDWR | O_CLOEXEC | (options.resume ? O_APPEND : O_CREAT | O_EXCL);
    UniqueFd fd(::open(options.spool_path.c_str(), flags, 0600));
    if (!fd.valid()) return ErrnoStatus("opening the trace spool " + options.spool_path, errno);
    return fd;
  }
  std::string dir = options.spool_dir.empty() ? "/tmp" : options.spool_dir;
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    // Filesystems without O_TMPFILE: a named file, unlinked at once.
    std::string pattern = dir + "/stagehost-trace-XXXXXX";
    fd.Reset(::mkostemp(pattern.data(), O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus("creating the trace spool in " + dir, errno);
    ::unlink(pattern.c_str());
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<JobTrace>> JobTrace::Create(const Options& options) {
  std::unique_ptr<JobTrace> trace(new JobTrace());
  STAGEHOST_ASSIGN_OR_RETURN(trace->spool_, OpenSpool(options));
  if (options.resume) {
    // What the previous process spooled: its size and CRC continue from here.
    char buffer[64 * 1024];
    uint64_t size = 0;
    while (true) {
      ssize_t n = ::pread(trace->spool_.get(), buffer, sizeof buffer, static_cast<off_t>(size));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("reading the trace spool " + options.spool_path, errno);
      if (n == 0) break;
      trace->crc_ = static_cast<uint32_t>(
          ::crc32_z(trace->crc_, reinterpret_cast<const Bytef*>(buffer), static_cast<size_t>(n)));
      size += static_cast<uint64_t>(n);
    }
    trace->size_.store(size);
    trace->last_notified_size_ = size;
  }
  trace->wake_threshold_ = options.wake_threshold;
  STAGEHOST_ASSIGN_OR_RETURN(trace->secrets_, log::SecretMatcher::Create(options.secrets));
  trace->spool_sink_ = std::make_unique<Spool>(trace.get());
  if (options.resume && trace->size_.load() > 0) {
    // A line the previous process left unfinished is ended before anything new is stamped.
    char last = '\n';
    uint64_t size = trace->size_.load();
    if (::pread(trace->spool_.get(), &last, 1, static_cast<off_t>(size - 1)) == 1 && last != '\n') {
      STAGEHOST_RETURN_IF_ERROR(trace->spool_sink_->Write("\n"));
    }
  }
  trace->limited_ =
      std::make_unique<log::LimitedSink>(trace->spool_sink_.get(), options.output_limit_bytes,
                                         OutputLimitNotice(options.output_limit_bytes));
  log::ByteSink* after_sanitizer = trace->limited_.get();
  if (options.timestamps) {
    trace->timestamper_ = std::make_unique<log::LineTimestamper>(trace->limited_.get());
    after_sanitizer = trace->timestamper_.get();
  }
  std::vector<std::string> prefixes = log::TokenSanitizer::DefaultTokenPrefixes();
  for (const std::string& prefix : options.token_prefixes) {
    if (prefixes.size() >= 15) break;  // gitlab-runner's cap on prefixes
    prefixes.push_back(prefix);
  }
  trace->sanitizer_ = std::make_unique<log::TokenSanitizer>(
      after_sanitizer, std::move(prefixes), log::TokenSanitizer::DefaultUrlParameters());
  return trace;
}

JobTrace::~JobTrace() = default;

void JobTrace::WriteLocked(std::string_view bytes) {
  // A failing spool write (disk full) cannot be reported to the job; the bytes are lost but the
  // job goes on, as with the output limit.
  (void)sanitizer_->Write(bytes);
}

void JobTrace::Write(uint32_t source, std::string_view bytes) {
  if (bytes.empty()) return;
  uint64_t pending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_.load(std::memory_order_relaxed)) return;
    auto& masker = maskers_[source];
    if (!masker) {
      // The masker writes into the sanitizer; the lock is already held by this call.
      masker = std::make_unique<log::MaskingWriter>(secrets_, sanitizer_.get());
    }
    (void)masker->Write(bytes);
    pending = GrowthToNotifyLocked();
  }
  if (pending > 0) data_cv_.notify_all();
}

uint64_t JobTrace::GrowthToNotifyLocked() {
  // Waking the sender on every write would cost a futex call per line; every 64 KiB is enough
  // for it to see a full PATCH's worth as soon as it exists.
  uint64_t size = size_.load(std::memory_order_relaxed);
  if (size - last_notified_size_ < (64u << 10)) return 0;
  uint64_t growth = size - last_notified_size_;
  last_notified_size_ = size;
  return growth;
}

void JobTrace::WriteMasked(std::string_view bytes) {
  if (bytes.empty()) return;
  uint64_t pending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_.load(std::memory_order_relaxed)) return;
    WriteLocked(bytes);
    pending = GrowthToNotifyLocked();
  }
  if (pending > 0) data_cv_.notify_all();
}

void JobTrace::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_.load(std::memory_order_relaxed)) return;
    for (auto& [source, masker] : maskers_) (void)masker->Close();
    (void)sanitizer_->Close();
    (void)limited_->Close();
    closed_.store(true, std::memory_order_release);
  }
  data_cv_.notify_all();
}

uint32_t JobTrace::crc32() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return crc_;
}

bool JobTrace::truncated() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return limited_->truncated();
}

void JobTrace::WaitForData(uint64_t acked, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  data_cv_.wait_until(lock, deadline, [&] {
    return woken_ || closed_.load(std::memory_order_relaxed) ||
           size_.load(std::memory_order_relaxed) >= acked + wake_threshold_;
  });
  woken_ = false;
}

void JobTrace::Wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  data_cv_.notify_all();
}

}  // namespace stagehost::gitlab
