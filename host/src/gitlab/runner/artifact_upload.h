// UploadArtifact: POST jobs/:id/artifacts of a staged archive, with GitLab's retry rules.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "net/http_client.h"
#include "util/status.h"

namespace stagehost::gitlab {

struct ArtifactUpload {
  std::string base;  // …/api/v4/ (ApiBase of the configured url)
  int64_t job_id = 0;
  std::string job_token;
  std::string name;  // artifacts[].name; empty: "artifacts"
  std::string artifact_type = "archive";
  std::string artifact_format = "zip";  // zip | gzip | raw: also picks the part's file name
  std::string expire_in;                // omitted when empty
  std::filesystem::path staged_file;    // from artifacts::BuildArchive; sent as is on every try
  // Archive bytes sent so far of the total (multipart framing excluded).
  std::function<void(uint64_t sent, uint64_t total)> on_progress;
  // Ends waits between tries (the HttpClient's own abort flag ends a transfer in progress).
  const std::atomic<bool>* abort = nullptr;
  // Pause before a retry: exponential from `initial_backoff` up to `max_backoff`, unless the
  // server asked for a wait (Retry-After / RateLimit-ResetTime).
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  // gitlab-runner: 1 h for the whole upload; `idle` catches a stalled server much sooner.
  net::Timeouts timeouts{.connect = std::chrono::seconds(10),
                         .idle = std::chrono::seconds(60),
                         .total = std::chrono::hours(1)};
};

struct ArtifactUploadResult {
  int attempts = 0;      // requests sent, redirects included
  std::string url;       // the URL that answered 201 (differs after a 307/308)
  std::string response;  // the 201 body
};

// Sends the staged file as the single multipart part `file` with a known Content-Length (the
// multipart framing is built in memory around the file region; the archive is never re-read into
// memory nor rebuilt). Retries per gitlab-runner-api.md §10: 503 up to 6 tries, other 5xx, 408,
// 429 and transport failures (a reset mid-body included, reliability.md R5) up to 3; 307/308 with
// a Location moves to that scheme and host and tries again (at most 5 times). 413 (too large,
// naming the size), 403 and other 4xx fail at once. Errors: kPermissionDenied for 403,
// kInvalidArgument for 413 and other refusals, kUnavailable once retries are spent, kCancelled.
Result<ArtifactUploadResult> UploadArtifact(net::HttpClient& http, const ArtifactUpload& upload);

// The multipart file name: "<name>.zip", "<name>.gz" or "<name>" (raw), where name is the base
// name of `name`, "artifacts" when `name` is empty and "default" when its base name is empty.
std::string ArtifactFileName(std::string_view name, std::string_view artifact_format);

// "512 B", "3.4 MiB", "2.0 GiB": sizes in job log lines and messages.
std::string HumanSize(uint64_t bytes);

// `url` with its scheme and authority replaced by those of `location` (a 307/308 target).
// Nothing when `location` is not an absolute http(s) URL.
std::optional<std::string> Retarget(std::string_view url, std::string_view location);

}  // namespace stagehost::gitlab
