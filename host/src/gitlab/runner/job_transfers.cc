// The file-moving steps of a job, in gitlab-runner's order and with its attempt variables.
#include "gitlab/runner/job_transfers.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <optional>

#include "artifacts/archive_builder.h"
#include "gitlab/runner/api_client.h"
#include "gitlab/runner/artifact_upload.h"
#include "gitlab/runner/dependency_download.h"
#include "gitlab/runner/git_sources.h"
#include "gitlab/runner/local_cache.h"
#include "gitlab/runner/metrics.h"
#include "net/http_client.h"

namespace stagehost::gitlab {
namespace {

namespace fs = std::filesystem;

// Uploads at least this large report their progress in the job log.
constexpr uint64_t kProgressFrom = 16ULL << 20;

void Say(const TransferContext& context, const std::string& line) {
  if (context.log) context.log(line + "\n");
}
void Notice(const TransferContext& context, const std::string& text) {
  Say(context, fmt::format("\x1b[32;1m{}\x1b[0;m", text));
}
void Warn(const TransferContext& context, const std::string& text) {
  Say(context, fmt::format("\x1b[0;33mWARNING: {}\x1b[0;m", text));
}

// GET_SOURCES_ATTEMPTS and friends: 1–10, as gitlab-runner checks them.
Result<int> Attempts(const JobPayload& job, const std::string& name) {
  std::optional<std::string> value = job.Variable(name);
  if (!value || value->empty()) return 1;
  int attempts = 0;
  try {
    size_t used = 0;
    attempts = std::stoi(*value, &used);
    if (used != value->size()) attempts = 0;
  } catch (const std::exception&) {
    attempts = 0;
  }
  if (attempts < 1 || attempts > 10) {
    return InvalidConfig(fmt::format("{}=\"{}\" is out of the range [1, 10]", name, *value));
  }
  return attempts;
}

bool Aborted(const TransferContext& context) {
  return context.abort != nullptr && context.abort->load();
}

net::HttpClient MakeClient(const TransferContext& context) {
  net::ClientOptions options;
  options.user_agent = fmt::format("stagehost {} (linux)", STAGEHOST_VERSION);
  options.ca_file = context.runner->tls_ca_file.string();
  options.abort = context.abort;
  return net::HttpClient(std::move(options));
}

std::vector<std::string> StringList(const nlohmann::json& value, const JobPayload& job) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const auto& item : value) {
    if (item.is_string()) out.push_back(ExpandJobVariables(item.get<std::string>(), job));
  }
  return out;
}

std::string StringField(const nlohmann::json& entry, const char* key, std::string fallback = "") {
  auto it = entry.find(key);
  return it != entry.end() && it->is_string() ? it->get<std::string>() : fallback;
}

LocalCache CacheFor(const TransferContext& context) {
  LocalCache cache;
  cache.cache_dir = context.runner->cache_dir;
  cache.project = context.job->project_path.empty()
                      ? fmt::format("project-{}", context.job->project_id)
                      : context.job->project_path;
  cache.project_dir = context.project_dir;
  return cache;
}

Result<std::vector<CacheSpec>> CacheSpecs(const TransferContext& context) {
  STAGEHOST_ASSIGN_OR_RETURN(std::vector<CacheSpec> specs, ParseCacheSpecs(context.job->cache));
  for (CacheSpec& spec : specs) {
    spec.key = ExpandJobVariables(spec.key, *context.job);
    if (spec.key.empty()) spec.key = "default";
    for (std::string& path : spec.paths) path = ExpandJobVariables(path, *context.job);
    for (std::string& key : spec.fallback_keys) key = ExpandJobVariables(key, *context.job);
  }
  return specs;
}

// One artifacts[] entry: staged once, uploaded with UploadArtifact's retries.
Status UploadEntry(const TransferContext& context, net::HttpClient& http,
                   const nlohmann::json& entry, size_t index) {
  const JobPayload& job = *context.job;
  const std::string type = StringField(entry, "artifact_type", "archive");
  const std::string format_name = StringField(entry, "artifact_format", "zip");
  STAGEHOST_ASSIGN_OR_RETURN(artifacts::ArchiveFormat format,
                             artifacts::ParseArchiveFormat(format_name));
  artifacts::ArchiveSpec spec;
  spec.project_dir = context.project_dir;
  spec.paths = StringList(entry.value("paths", nlohmann::json::array()), job);
  spec.exclude = StringList(entry.value("exclude", nlohmann::json::array()), job);
  spec.untracked = entry.value("untracked", false);
  spec.format = format;
  spec.output = context.temp_dir / fmt::format("artifact-{}.{}", index, format_name);

  Say(context, fmt::format("Uploading artifacts for {} ({}, {})...", type, format_name,
                           spec.paths.empty() ? "untracked"
                                              : fmt::format("{}", fmt::join(spec.paths, ", "))));
  Result<artifacts::StagedArchive> staged = artifacts::BuildArchive(spec);
  if (!staged.ok() && staged.status().code() == StatusCode::kNotFound) {
    // gitlab-runner: "No files to upload" is a warning, the job keeps its state.
    Warn(context, fmt::format("{}: {}", type, staged.status().message()));
    Warn(context, "No files to upload");
    return Status::Ok();
  }
  if (!staged.ok()) return staged.status().WithContext("staging the " + type + " artifact");
  Say(context, fmt::format("Staged {} file(s), {} (sha256 {})", staged->entries,
                           HumanSize(staged->size), staged->sha256.substr(0, 12)));

  ArtifactUpload upload;
  upload.base = ApiBase(context.runner->url);
  upload.job_id = job.id;
  upload.job_token = job.token;
  upload.name = ExpandJobVariables(StringField(entry, "name"), job);
  upload.artifact_type = type;
  upload.artifact_format = format_name;
  upload.expire_in = StringField(entry, "expire_in");
  upload.staged_file = staged->path;
  upload.abort = context.abort;
  if (staged->size >= kProgressFrom) {
    auto started = std::chrono::steady_clock::now();
    auto last = started;
    upload.on_progress = [&context, started, last](uint64_t sent, uint64_t total) mutable {
      auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(2) && sent < total) return;
      last = now;
      double seconds = std::chrono::duration<double>(now - started).count();
      Say(context, fmt::format("  uploaded {} of {} ({:.0f} %, {:.1f} MB/s)", HumanSize(sent),
                               HumanSize(total), total ? 100.0 * sent / total : 100.0,
                               seconds > 0 ? sent / seconds / 1e6 : 0.0));
    };
  }
  Result<ArtifactUploadResult> sent = UploadArtifact(http, upload);
  std::error_code ec;
  fs::remove(staged->path, ec);
  if (context.metrics != nullptr) {
    // Only the answer that ended the upload is known here: a 201, or an error counted as one.
    if (sent.ok()) {
      context.metrics->ApiRequest("jobs/artifacts", 201);
      for (int i = 1; i < sent->attempts; ++i) context.metrics->Retry("artifact_upload");
    } else {
      context.metrics->Error("artifact_upload");
    }
  }
  if (!sent.ok()) return sent.status();
  Notice(context, fmt::format("{}: {} uploaded to GitLab ({} tr{})", type,
                              ArtifactFileName(upload.name, format_name), sent->attempts,
                              sent->attempts == 1 ? "y" : "ies"));
  return Status::Ok();
}

}  // namespace

Status GetSources(const TransferContext& context) {
  STAGEHOST_ASSIGN_OR_RETURN(int attempts, Attempts(*context.job, "GET_SOURCES_ATTEMPTS"));
  GitSourcesRequest request = MakeGitSourcesRequest(*context.job, context.project_dir);
  request.base_env = context.env;
  request.kill_grace = context.runner->kill_grace;
  Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) Warn(context, fmt::format("Retrying get_sources ({}/{})", attempt, attempts));
    Result<SourcesReport> report = FetchSources(request, context.log, context.cancel_fd);
    if (report.ok()) return Status::Ok();
    last = report.status();
    if (last.code() == StatusCode::kCancelled || last.code() == StatusCode::kInvalidConfig) break;
  }
  return last;
}

void RestoreJobCaches(const TransferContext& context) {
  if (context.job->cache.is_null() || context.job->cache.empty()) return;
  Result<std::vector<CacheSpec>> specs = CacheSpecs(context);
  if (!specs.ok()) {
    Warn(context, specs.status().message());
    return;
  }
  RestoreCaches(CacheFor(context), *specs, context.log);
}

void SaveJobCaches(const TransferContext& context, bool job_succeeded) {
  if (context.job->cache.is_null() || context.job->cache.empty()) return;
  Result<std::vector<CacheSpec>> specs = CacheSpecs(context);
  if (!specs.ok()) {
    Warn(context, specs.status().message());
    return;
  }
  SaveCaches(CacheFor(context), *specs, job_succeeded, context.log);
}

Status DownloadDependencies(const TransferContext& context) {
  const JobPayload& job = *context.job;
  if (!job.dependencies.is_array() || job.dependencies.empty()) return Status::Ok();
  STAGEHOST_ASSIGN_OR_RETURN(int attempts, Attempts(job, "ARTIFACT_DOWNLOAD_ATTEMPTS"));
  net::HttpClient http = MakeClient(context);
  for (const nlohmann::json& dependency : job.dependencies) {
    if (!dependency.is_object() || !dependency.contains("artifacts_file")) continue;
    DependencyDownload download;
    download.base = ApiBase(context.runner->url);
    download.dependency_id = dependency.value("id", int64_t{0});
    download.name = StringField(dependency, "name", std::to_string(download.dependency_id));
    // Newer GitLab sends the running job's token here; older ones the dependency's own.
    download.token = StringField(dependency, "token", job.token);
    download.temp_dir = context.temp_dir;
    download.abort = context.abort;
    Say(context,
        fmt::format("Downloading artifacts for {} ({})...", download.name, download.dependency_id));
    Status last;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      if (Aborted(context)) return Cancelled("download_artifacts: aborted");
      if (attempt > 1) {
        Warn(context, fmt::format("Retrying download_artifacts ({}/{})", attempt, attempts));
      }
      Result<artifacts::ExtractSummary> fetched =
          FetchDependency(http, download, context.project_dir, artifacts::ExtractLimits{});
      if (context.metrics != nullptr) {
        if (fetched.ok()) {
          context.metrics->ApiRequest("jobs/artifacts:download", 200);
        } else {
          context.metrics->Error("artifact_download");
        }
      }
      if (fetched.ok()) {
        Notice(context, fmt::format("Downloading artifacts from coordinator... ok ({} entries, {})",
                                    fetched->entries, HumanSize(fetched->bytes)));
        last = Status::Ok();
        break;
      }
      last = fetched.status();
      // Refusals and missing artifacts do not get better by asking again.
      StatusCode code = last.code();
      if (code == StatusCode::kPermissionDenied || code == StatusCode::kNotFound ||
          code == StatusCode::kInvalidArgument || code == StatusCode::kCancelled) {
        break;
      }
    }
    if (!last.ok()) return last;
  }
  return Status::Ok();
}

Status UploadArtifacts(const TransferContext& context, bool job_succeeded) {
  const nlohmann::json& entries = context.job->artifacts;
  if (!entries.is_array() || entries.empty()) return Status::Ok();
  net::HttpClient http = MakeClient(context);
  Status first_failure;
  for (size_t i = 0; i < entries.size(); ++i) {
    const nlohmann::json& entry = entries[i];
    if (!entry.is_object()) continue;
    const std::string when = StringField(entry, "when", "on_success");
    bool wanted = when == "always" || (when == "on_success" && job_succeeded) ||
                  (when == "on_failure" && !job_succeeded);
    if (!wanted) continue;
    if (Aborted(context)) return Cancelled("upload_artifacts: aborted");
    Status uploaded = UploadEntry(context, http, entry, i);
    if (!uploaded.ok()) {
      Say(context, fmt::format("\x1b[31;1mERROR: Uploading artifacts failed: {}\x1b[0;m",
                               uploaded.message()));
      if (first_failure.ok()) first_failure = uploaded;
    }
  }
  return first_failure;
}

}  // namespace stagehost::gitlab
