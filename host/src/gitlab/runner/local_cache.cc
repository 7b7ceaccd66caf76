// Local job cache over the artifact archiver (zip) and the dependency extractor (safe unzip).
#include "gitlab/runner/local_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <system_error>

#include "artifacts/archive_builder.h"
#include "artifacts/safe_extract.h"
#include "util/unique_fd.h"

namespace stagehost::gitlab {
namespace fs = std::filesystem;

namespace {

std::string Notice(std::string_view text) { return fmt::format("\x1b[32;1m{}\x1b[0;m\n", text); }
std::string Warning(std::string_view text) {
  return fmt::format("\x1b[0;33mWARNING: {}\x1b[0;m\n", text);
}
std::string Plain(std::string_view text) { return fmt::format("{}\n", text); }

std::vector<std::string> StringList(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const nlohmann::json& item : value) {
    if (item.is_string() && !item.get<std::string>().empty())
      out.push_back(item.get<std::string>());
  }
  return out;
}

std::string_view WhenName(CacheWhen when) {
  switch (when) {
    case CacheWhen::kOnSuccess:
      return "on_success";
    case CacheWhen::kOnFailure:
      return "on_failure";
    case CacheWhen::kAlways:
      return "always";
  }
  return "on_success";
}

// A per-process counter keeps temporary names apart between threads of one runner.
std::atomic<uint64_t> temp_counter{0};

}  // namespace

Result<std::vector<CacheSpec>> ParseCacheSpecs(const nlohmann::json& cache) {
  std::vector<CacheSpec> specs;
  if (cache.is_null()) return specs;
  if (!cache.is_array()) return InvalidConfig("cache: expected an array");
  for (size_t i = 0; i < cache.size(); ++i) {
    const nlohmann::json& item = cache[i];
    std::string where = fmt::format("cache[{}]", i);
    if (!item.is_object()) return InvalidConfig(where + ": expected an object");
    CacheSpec spec;
    std::string key = item.value("key", std::string());
    if (!key.empty()) spec.key = key;
    spec.paths = StringList(item.value("paths", nlohmann::json()));
    spec.untracked = item.value("untracked", false);
    spec.fallback_keys = StringList(item.value("fallback_keys", nlohmann::json()));
    std::string policy = item.value("policy", std::string());
    if (policy.empty() || policy == "pull-push") {
      spec.policy = CachePolicy::kPullPush;
    } else if (policy == "pull") {
      spec.policy = CachePolicy::kPull;
    } else if (policy == "push") {
      spec.policy = CachePolicy::kPush;
    } else {
      return InvalidConfig(
          fmt::format("{}.policy: \"{}\" is not one of pull-push, pull, push", where, policy));
    }
    std::string when = item.value("when", std::string());
    if (when.empty() || when == "on_success") {
      spec.when = CacheWhen::kOnSuccess;
    } else if (when == "on_failure") {
      spec.when = CacheWhen::kOnFailure;
    } else if (when == "always") {
      spec.when = CacheWhen::kAlways;
    } else {
      return InvalidConfig(
          fmt::format("{}.when: \"{}\" is not one of on_success, on_failure, always", where, when));
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

Result<std::string> SanitizeCacheKey(std::string_view key) {
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front())))
    key.remove_prefix(1);
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.remove_suffix(1);
  if (key.empty()) return InvalidArgument("cache key is empty");
  if (key == "." || key == "..") {
    return InvalidArgument(fmt::format("cache key \"{}\" would name a directory outside", key));
  }
  std::string name;
  for (char c : key) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '.' || c == '_' || c == '-') {
      name += c;
    } else {
      name += fmt::format("%{:02X}", u);
    }
  }
  if (name.size() > 255) {
    return InvalidArgument(
        fmt::format("cache key \"{}…\" is too long ({} bytes once encoded, max 255)",
                    key.substr(0, 40), name.size()));
  }
  return name;
}

Result<fs::path> CacheArchivePath(const LocalCache& cache, std::string_view key) {
  if (cache.cache_dir.empty()) return InvalidConfig("no cache_dir configured");
  fs::path dir = cache.cache_dir;
  // The project path keeps its nesting (group/sub/project), each component made safe on its own.
  std::string_view project = cache.project;
  bool any = false;
  while (!project.empty()) {
    size_t slash = project.find('/');
    std::string_view part = project.substr(0, slash);
    project = slash == std::string_view::npos ? std::string_view() : project.substr(slash + 1);
    if (part.empty()) continue;
    Result<std::string> safe = SanitizeCacheKey(part);
    if (!safe.ok()) return safe.status().WithContext("cache project path");
    dir /= *safe;
    any = true;
  }
  if (!any) return InvalidConfig("cache: no project name");
  STAGEHOST_ASSIGN_OR_RETURN(std::string name, SanitizeCacheKey(key));
  return dir / name / "cache.zip";
}

Result<std::optional<std::string>> RestoreCache(const LocalCache& cache, const CacheSpec& spec,
                                                const CacheLog& log) {
  auto say = [&](const std::string& line) {
    if (log) log(line);
  };
  if (spec.policy == CachePolicy::kPush) {
    say(Notice(fmt::format("Not downloading cache {} due to policy", spec.key)));
    return std::optional<std::string>();
  }
  std::vector<std::string> keys = {spec.key};
  keys.insert(keys.end(), spec.fallback_keys.begin(), spec.fallback_keys.end());
  Status last_error;
  for (const std::string& key : keys) {
    say(Notice(fmt::format("Checking cache for {}...", key)));
    Result<fs::path> path = CacheArchivePath(cache, key);
    if (!path.ok()) {
      say(Warning(path.status().message()));
      last_error = path.status();
      continue;
    }
    UniqueFd fd(open(path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) {
        say(Warning("file does not exist"));
        say(Plain("Failed to extract cache"));
      } else {
        last_error = ErrnoStatus("opening " + path->string(), errno);
        say(Warning(last_error.message()));
      }
      continue;
    }
    std::error_code ec;
    fs::create_directories(cache.project_dir, ec);
    artifacts::ExtractLimits limits;
    limits.max_total_bytes = cache.max_extract_bytes;
    Result<artifacts::ExtractSummary> extracted =
        artifacts::ExtractArchiveSafely(fd.get(), cache.project_dir, limits);
    if (!extracted.ok()) {
      last_error = extracted.status().WithContext(fmt::format("cache {}", key));
      say(Warning(last_error.message()));
      say(Plain("Failed to extract cache"));
      continue;
    }
    say(Plain("Successfully extracted cache"));
    return std::optional<std::string>(key);
  }
  if (!last_error.ok()) return last_error;
  return std::optional<std::string>();
}

Result<bool> SaveCache(const LocalCache& cache, const CacheSpec& spec, bool job_succeeded,
                       const CacheLog& log) {
  auto say = [&](const std::string& line) {
    if (log) log(line);
  };
  if (spec.policy == CachePolicy::kPull) {
    say(Notice(fmt::format("Not uploading cache {} due to policy", spec.key)));
    return false;
  }
  bool wanted = spec.when == CacheWhen::kAlways ||
                (spec.when == CacheWhen::kOnSuccess && job_succeeded) ||
                (spec.when == CacheWhen::kOnFailure && !job_succeeded);
  if (!wanted) {
    say(Notice(fmt::format("Not uploading cache {} due to when: {} (the job {})", spec.key,
                           WhenName(spec.when), job_succeeded ? "succeeded" : "failed")));
    return false;
  }
  say(Notice(fmt::format("Creating cache {}...", spec.key)));
  STAGEHOST_ASSIGN_OR_RETURN(fs::path path, CacheArchivePath(cache, spec.key));
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return ErrnoStatus("creating " + path.parent_path().string(), ec.value());

  artifacts::ArchiveSpec archive;
  archive.project_dir = cache.project_dir;
  archive.paths = spec.paths;
  archive.untracked = spec.untracked;
  archive.format = artifacts::ArchiveFormat::kZip;
  archive.output =
      path.parent_path() / fmt::format("cache.zip.tmp-{}-{}", getpid(), ++temp_counter);
  archive.compression_level = 1;
  if (archive.paths.empty() && !archive.untracked) {
    say(Warning("no paths and no untracked files to cache"));
    say(Plain("Skipping cache archiving due to empty cache"));
    return false;
  }
  Result<artifacts::StagedArchive> staged = artifacts::BuildArchive(archive);
  if (!staged.ok()) {
    fs::remove(archive.output, ec);
    if (staged.status().code() == StatusCode::kNotFound) {
      say(Warning(staged.status().message()));
      say(Plain("Skipping cache archiving due to empty cache"));
      return false;
    }
    return staged.status().WithContext(fmt::format("cache {}", spec.key));
  }
  say(Plain(fmt::format("{} files and directories archived", staged->entries)));
  fs::rename(archive.output, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(archive.output, ignored);
    return ErrnoStatus("storing " + path.string(), ec.value());
  }
  say(
      Plain("No URL provided, cache will not be uploaded to shared cache server. Cache will be "
            "stored only locally."));
  say(Plain("Created cache"));
  return true;
}

int RestoreCaches(const LocalCache& cache, const std::vector<CacheSpec>& specs,
                  const CacheLog& log) {
  int restored = 0;
  for (const CacheSpec& spec : specs) {
    Result<std::optional<std::string>> result = RestoreCache(cache, spec, log);
    if (result.ok()) {
      restored += result->has_value() ? 1 : 0;
    } else if (log) {
      log(Warning(
          fmt::format("Failed to restore cache {}: {}", spec.key, result.status().message())));
    }
  }
  return restored;
}

int SaveCaches(const LocalCache& cache, const std::vector<CacheSpec>& specs, bool job_succeeded,
               const CacheLog& log) {
  int saved = 0;
  for (const CacheSpec& spec : specs) {
    Result<bool> result = SaveCache(cache, spec, job_succeeded, log);
    if (result.ok()) {
      saved += *result ? 1 : 0;
    } else if (log) {
      log(Warning(
          fmt::format("Failed to create cache {}: {}", spec.key, result.status().message())));
    }
  }
  return saved;
}

}  // namespace stagehost::gitlab
