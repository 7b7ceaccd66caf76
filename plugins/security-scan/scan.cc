// scan.cc -- the workspace walk and the parallel per-file scanners (see scan.h).
#include "scan.h"

#include <fcntl.h>
#include <re2/re2.h>
#include <stagehost/stage.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "osv.h"
#include "pickle_scan.h"
#include "secrets.h"

namespace stagehost::security_scan {
namespace fs = std::filesystem;
namespace {

struct FileItem {
  std::string rel;
  std::uint64_t size;
};

// Reads a whole file into `buf` with read(2). False when it cannot be opened or read.
bool ReadWhole(const std::string& path, std::uint64_t size, std::string& buf) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  buf.resize(size);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buf.data() + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf.resize(got);
  return true;
}

bool LooksBinary(std::string_view data) {
  const std::size_t n = std::min<std::size_t>(data.size(), 8000);
  return std::memchr(data.data(), '\0', n) != nullptr;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::set<std::string> LoadBaseline(const Config& config, const std::string& workspace,
                                   std::vector<std::string>& messages) {
  std::set<std::string> fps;
  if (!config.baseline) return fps;
  fs::path p(*config.baseline);
  if (p.is_relative()) p = fs::path(workspace) / p;
  std::ifstream in(p);
  if (!in) {
    if (config.baseline_required) throw sdk::BadConfig("baseline " + p.string() + ": cannot open");
    messages.push_back("baseline " + p.string() + " not found: every finding counts");
    return fps;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw sdk::BadConfig("baseline " + p.string() + ": invalid JSON: " + e.what());
  }
  if (j.contains("findings") && j["findings"].is_array()) {
    for (const auto& f : j["findings"]) {
      if (f.contains("fingerprint") && f["fingerprint"].is_string())
        fps.insert(f["fingerprint"].get<std::string>());
    }
  } else if (j.contains("fingerprints") && j["fingerprints"].is_array()) {
    for (const auto& f : j["fingerprints"]) {
      if (f.is_string()) fps.insert(f.get<std::string>());
    }
  } else {
    throw sdk::BadConfig("baseline " + p.string() +
                         ": expected a security-scan.json (findings[].fingerprint) or "
                         "{\"fingerprints\": [...]}");
  }
  return fps;
}

}  // namespace

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

ScanResult RunScan(const Config& config, const std::string& workspace,
                   const std::function<bool()>& cancelled) {
  ScanResult result;
  result.start_time = UtcNow();
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  if (!fs::is_directory(workspace, ec))
    throw sdk::BadConfig("workspace " + workspace + " is not a directory");

  // Rules: the project's gitleaks config (explicit, or .gitleaks.toml when present) or ours.
  std::unique_ptr<SecretScanner> secrets;
  if (config.secrets) {
    RuleSet rules;
    std::optional<std::string> toml = config.gitleaks_config;
    if (!toml && fs::exists(fs::path(workspace) / ".gitleaks.toml")) toml = ".gitleaks.toml";
    try {
      if (toml) {
        fs::path p(*toml);
        if (p.is_relative()) p = fs::path(workspace) / p;
        if (!fs::exists(p)) throw std::runtime_error(p.string() + ": no such file");
        rules = LoadGitleaksConfig(p.string());
      } else {
        rules = BuiltinRules();
      }
      std::erase_if(rules.rules, [&](const Rule& r) {
        return std::find(config.disabled_rules.begin(), config.disabled_rules.end(), r.id) !=
               config.disabled_rules.end();
      });
      SecretScanOptions opts;
      opts.decode_base64 = config.decode_base64;
      if (!config.allowlist.empty()) opts.allowlists.push_back(config.allowlist);
      if (config.cache_dir) {
        fs::path c(*config.cache_dir);
        opts.cache_dir = (c.is_relative() ? fs::path(workspace) / c : c).string();
      }
      secrets = std::make_unique<SecretScanner>(std::move(rules), std::move(opts));
    } catch (const sdk::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw sdk::BadConfig(std::string("secret rules: ") + e.what());
    }
    result.stats.rules = secrets->rule_count();
    result.stats.fallback_rules = secrets->fallback_rules();
    result.stats.rules_source = secrets->source();
    result.stats.rules_cached = secrets->database_from_cache();
  }
  std::optional<OsvDatabase> osv;
  if (config.dependencies && config.osv_db) {
    fs::path p(*config.osv_db);
    if (p.is_relative()) p = fs::path(workspace) / p;
    try {
      osv = OsvDatabase::Load(p.string());
    } catch (const std::exception& e) {
      throw sdk::BadConfig(std::string("OSV database: ") + e.what());
    }
    result.stats.advisories = osv->size();
  }
  const std::set<std::string> baseline = LoadBaseline(config, workspace, result.messages);
  std::vector<std::unique_ptr<RE2>> excludes;
  for (const auto& x : config.exclude) excludes.push_back(std::make_unique<RE2>(x));

  // The walk: no symlinks followed, skip_dirs never entered.
  std::vector<FileItem> files;
  std::size_t root_prefix = fs::path(workspace).generic_string().size();
  if (!workspace.empty() && workspace.back() != '/') ++root_prefix;
  const std::set<std::string> skip(config.skip_dirs.begin(), config.skip_dirs.end());
  // A cache_dir inside the workspace holds our own databases: not scanned.
  fs::path cache_dir;
  if (config.cache_dir) {
    cache_dir = fs::path(*config.cache_dir);
    if (cache_dir.is_relative()) cache_dir = fs::path(workspace) / cache_dir;
    cache_dir = cache_dir.lexically_normal();
  }
  for (auto it = fs::recursive_directory_iterator(
           workspace, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& e = *it;
    if (e.is_symlink(ec)) continue;
    if (e.is_directory(ec)) {
      if (skip.count(e.path().filename().string()) ||
          (!cache_dir.empty() && e.path().lexically_normal() == cache_dir)) {
        it.disable_recursion_pending();
        ++result.stats.dirs_skipped;
      }
      continue;
    }
    if (!e.is_regular_file(ec)) continue;
    ++result.stats.files_seen;
    // The iterator's paths are the workspace, a separator and the relative path: no
    // fs::relative, which stats every component of both paths.
    std::string rel = e.path().generic_string();
    rel.erase(0, std::min(rel.size(), root_prefix));
    bool excluded = false;
    for (const auto& re : excludes) excluded = excluded || RE2::PartialMatch(rel, *re);
    if (excluded || (secrets && secrets->PathAllowed(rel) && !ManifestKind(rel))) {
      ++result.stats.skipped_excluded;
      continue;
    }
    files.push_back({std::move(rel), e.file_size(ec)});
  }
  if (ec) result.messages.push_back("walking " + workspace + ": " + ec.message());
  // Big files first, so one large file does not end up last on one thread.
  std::sort(files.begin(), files.end(), [](const FileItem& a, const FileItem& b) {
    return a.size != b.size ? a.size > b.size : a.rel < b.rel;
  });

  ModelPolicy policy;
  policy.allow_globals = config.allow_globals;
  policy.unknown_global = config.unknown_global;
  unsigned threads =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  threads =
      static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(files.size(), 1)));
  result.stats.threads = threads;

  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  auto worker = [&] {
    SecretScanner::ScratchPtr scratch = secrets ? secrets->NewScratch() : nullptr;
    std::vector<Finding> found;
    std::vector<Manifest> manifests;
    std::vector<std::string> messages;
    ScanStats st;
    std::string buf;
    std::size_t since_check = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t i = next.fetch_add(1);
      if (i >= files.size()) break;
      if (cancelled && ++since_check >= 64) {
        since_check = 0;
        if (cancelled()) {
          stop = true;
          break;
        }
      }
      const FileItem& f = files[i];
      const std::string abs = workspace + "/" + f.rel;
      const auto manifest_kind = config.dependencies ? ManifestKind(f.rel) : std::nullopt;
      const bool model_by_name = config.models && LooksLikeModelFile(f.rel, {});
      const bool want_secrets = secrets && f.size <= config.max_file_bytes;
      if (secrets) secrets->ScanPath(f.rel, found);
      if (!want_secrets && !manifest_kind && !(model_by_name && f.size <= config.max_model_bytes)) {
        if (secrets) ++st.skipped_large;
        continue;
      }
      if (!ReadWhole(abs, f.size, buf)) {
        messages.push_back(f.rel + ": cannot read");
        continue;
      }
      ++st.files_scanned;
      st.bytes_scanned += buf.size();
      const std::string_view data(buf);
      if (config.models && (model_by_name || LooksLikeModelFile(f.rel, data.substr(0, 16)))) {
        if (f.size <= config.max_model_bytes) {
          ++st.model_files;
          ScanModelFile(f.rel, data, policy, found);
        }
      }
      if (manifest_kind) {
        try {
          manifests.push_back(ParseManifest(f.rel, data));
        } catch (const std::exception& e) {
          messages.push_back(std::string("dependency manifest not read: ") + e.what());
        }
      }
      if (!want_secrets) {
        ++st.skipped_large;
        continue;
      }
      if (LooksBinary(data)) {
        ++st.skipped_binary;
        continue;
      }
      if (config.notebooks && EndsWith(f.rel, ".ipynb")) {
        ++st.notebooks;
        secrets->ScanNotebook(*scratch, f.rel, data, found);
      } else {
        secrets->ScanText(*scratch, f.rel, data, found);
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    for (auto& x : found) result.findings.push_back(std::move(x));
    for (auto& m : manifests) result.manifests.push_back(std::move(m));
    for (auto& m : messages) result.messages.push_back(std::move(m));
    result.stats.files_scanned += st.files_scanned;
    result.stats.bytes_scanned += st.bytes_scanned;
    result.stats.skipped_large += st.skipped_large;
    result.stats.skipped_binary += st.skipped_binary;
    result.stats.model_files += st.model_files;
    result.stats.notebooks += st.notebooks;
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (stop) throw sdk::Cancelled();

  // Dependencies against the advisories.
  std::sort(result.manifests.begin(), result.manifests.end(),
            [](const Manifest& a, const Manifest& b) { return a.path < b.path; });
  if (osv) {
    for (const Manifest& m : result.manifests) {
      for (const Dependency& d : m.dependencies) {
        for (const auto& match : osv->Lookup(m.ecosystem, d.name, d.version)) {
          const OsvAdvisory& a = *match.advisory;
          Finding f;
          f.kind = FindingKind::kDependency;
          f.severity = a.severity_known ? a.severity : config.unknown_advisory_severity;
          f.rule_id = a.id;
          f.title = a.summary.empty() ? a.id : a.summary;
          f.path = m.path;
          f.line = d.line;
          f.end_line = d.line;
          f.package = d.name;
          f.version = d.version;
          f.ecosystem = EcosystemName(m.ecosystem);
          f.fixed_version = match.fixed;
          f.aliases = a.aliases;
          f.url = "https://osv.dev/vulnerability/" + a.id;
          f.fingerprint = Fingerprint({a.id, m.path, d.name, d.version});
          f.message =
              d.name + " " + d.version + ": " + a.id +
              (a.aliases.empty() ? "" : " (" + a.aliases.front() + ")") +
              (match.fixed.empty() ? "; no fixed version known" : "; fixed in " + match.fixed);
          result.findings.push_back(std::move(f));
        }
      }
    }
  } else if (config.dependencies && !result.manifests.empty()) {
    result.messages.push_back("no OSV database configured (dependencies.osv_db): " +
                              std::to_string(result.manifests.size()) +
                              " manifest(s) listed, not matched against advisories");
  }

  // A generic finding on a line that a specific rule already reported is the same secret seen
  // twice (as gitleaks does, the specific rule wins).
  {
    std::set<std::string> specific;
    for (const Finding& f : result.findings) {
      if (f.kind == FindingKind::kSecret && f.rule_id != "generic-api-key") {
        specific.insert(f.path + ":" + std::to_string(f.line));
      }
    }
    std::erase_if(result.findings, [&](const Finding& f) {
      return f.kind == FindingKind::kSecret && f.rule_id == "generic-api-key" &&
             specific.count(f.path + ":" + std::to_string(f.line));
    });
  }
  // Fingerprints can repeat (the same secret twice on one line, or found both as is and in a
  // decoded blob on that line): keep the first occurrence.
  SortFindings(result.findings);
  std::set<std::string> seen;
  std::erase_if(result.findings, [&](const Finding& f) {
    return !seen.insert(std::string(KindName(f.kind)) + f.fingerprint).second;
  });
  for (Finding& f : result.findings) {
    f.baselined = baseline.count(f.fingerprint) > 0;
    result.baselined += f.baselined;
    if (!f.baselined && config.fail_on && f.severity >= *config.fail_on) ++result.failing;
  }
  std::sort(result.messages.begin(), result.messages.end());
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.end_time = UtcNow();
  return result;
}

}  // namespace stagehost::security_scan
