// Dependency artifacts: GET jobs/:id/artifacts (object-storage redirects), then safe extraction.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "artifacts/safe_extract.h"
#include "net/http_client.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace stagehost::gitlab {

struct DependencyDownload {
  std::string base;           // …/api/v4/ (ApiBase of the configured url)
  int64_t dependency_id = 0;  // dependencies[].id
  std::string name;           // dependencies[].name, for messages
  std::string token;          // dependencies[].token: sent as JOB-TOKEN to GitLab only
  // Where the archive is spooled: an unlinked temporary file, gone when the fd closes.
  std::filesystem::path temp_dir = "/tmp";
  uint64_t max_archive_bytes = 5ULL << 30;  // a larger body is refused, not truncated
  // `direct_download=true` on the first try (gitlab-runner's FF_USE_DIRECT_DOWNLOAD default).
  bool direct_download = true;
  int retries = 2;  // after the first try: gitlab-runner's 2 retries 1 s apart
  std::chrono::milliseconds retry_delay{1000};
  const std::atomic<bool>* abort = nullptr;
  net::Timeouts timeouts{.connect = std::chrono::seconds(10),
                         .idle = std::chrono::seconds(60),
                         .total = std::chrono::hours(1)};
};

struct DownloadedArchive {
  UniqueFd fd;  // the archive, readable from offset 0
  uint64_t size = 0;
  int attempts = 0;         // GitLab requests (object-storage hops not counted)
  bool redirected = false;  // the bytes came from a redirect target (object storage)
};

// Downloads the dependency's `archive` artifact. A 301/302/303/307/308 is followed (at most 5
// hops) and the JOB-TOKEN header goes only to GitLab's own scheme/host/port, never to object
// storage. 401/403/404 from GitLab fail at once (kPermissionDenied, kNotFound); anything else
// (5xx, transport errors, a truncated body, an object-storage refusal) is retried `retries` times
// `retry_delay` apart, later tries without direct_download. kInvalidArgument when the body passes
// `max_archive_bytes`.
Result<DownloadedArchive> DownloadDependency(net::HttpClient& http,
                                             const DependencyDownload& download);

// DownloadDependency, then artifacts::ExtractArchiveSafely; errors name the dependency.
Result<artifacts::ExtractSummary> FetchDependency(net::HttpClient& http,
                                                  const DependencyDownload& download,
                                                  const std::filesystem::path& project_dir,
                                                  const artifacts::ExtractLimits& limits);

}  // namespace stagehost::gitlab
