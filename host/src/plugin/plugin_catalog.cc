// Plugin discovery, verification and description.
#include "plugin/plugin_catalog.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <set>
#include <system_error>

#include "util/sha256.h"

namespace stagehost {
namespace {

namespace fs = std::filesystem;

struct Candidate {
  fs::path path;
  size_t rank;
};

std::vector<Candidate> CandidateFiles(const std::vector<fs::path>& search_path) {
  std::vector<Candidate> files;
  std::set<fs::path> seen;
  for (size_t rank = 0; rank < search_path.size(); ++rank) {
    const fs::path& entry = search_path[rank];
    std::error_code ec;
    std::vector<fs::path> in_dir;
    if (fs::is_directory(entry, ec)) {
      // increment(ec) rather than a range-for, whose operator++ throws on a read error.
      for (fs::directory_iterator it(entry, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".so") in_dir.push_back(it->path());
      }
      std::sort(in_dir.begin(), in_dir.end());
    } else if (fs::exists(fs::symlink_status(entry, ec))) {
      in_dir.push_back(entry);  // a plugin file named directly
    }
    for (fs::path& file : in_dir) {
      fs::path key = fs::weakly_canonical(file, ec);
      if (seen.insert(ec ? file : key).second) files.push_back({std::move(file), rank});
    }
  }
  return files;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

std::vector<fs::path> DefaultPluginSearchPath() {
  std::vector<fs::path> path;
  if (const char* env = std::getenv("STAGEHOST_PLUGIN_PATH"); env != nullptr) {
    std::string_view rest(env);
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string_view part = rest.substr(0, colon);
      if (!part.empty()) path.emplace_back(part);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    fs::path bin_dir = fs::path(std::string(self, static_cast<size_t>(n))).parent_path();
    path.push_back((bin_dir / ".." / "lib" / "stagehost" / "plugins").lexically_normal());
  }
  return path;
}

PluginCatalog PluginCatalog::Scan(const CatalogOptions& options) {
  PluginCatalog catalog;
  catalog.search_path_ = options.search_path;
  for (Candidate& file : CandidateFiles(options.search_path)) {
    CatalogEntry entry;
    entry.path = std::move(file.path);
    entry.search_rank = file.rank;
    catalog.entries_.push_back(std::move(entry));
  }

  // Verify and spawn everything first, then collect: plugins load in parallel.
  std::vector<std::optional<std::string>> allowed_names(catalog.entries_.size());
  for (size_t i = 0; i < catalog.entries_.size(); ++i) {
    CatalogEntry& entry = catalog.entries_[i];
    Result<VerifiedPlugin> verified =
        OpenAndVerifyPlugin(entry.path, options.trust, options.digests);
    if (!verified.ok()) {
      entry.error = verified.status();
      continue;
    }
    allowed_names[i] = verified->allowed_name;
    Result<std::unique_ptr<WorkerProcess>> worker = WorkerProcess::Spawn(*verified, options.worker);
    if (!worker.ok()) {
      entry.error = worker.status().WithContext(entry.path.string());
      continue;
    }
    entry.worker = std::move(worker).value();
    entry.fd = std::move(verified->fd);
  }

  std::map<std::string, fs::path> first_by_name;
  for (size_t i = 0; i < catalog.entries_.size(); ++i) {
    CatalogEntry& entry = catalog.entries_[i];
    if (!entry.worker) continue;
    Result<PluginInfo> info = entry.worker->AwaitDescription();
    if (!info.ok()) {
      entry.error = info.status();
      entry.worker.reset();
      continue;
    }
    if (allowed_names[i] && *allowed_names[i] != info->name) {
      entry.error = PermissionDenied(fmt::format(
          "{}: the allow-list gives digest {} to plugin \"{}\", but the file declares \"{}\"",
          entry.path.string(), info->sha256, *allowed_names[i], info->name));
      entry.worker->Quit();
      entry.worker.reset();
      continue;
    }
    auto [it, inserted] = first_by_name.emplace(info->name, entry.path);
    if (!inserted) {
      entry.error =
          PluginError(fmt::format("{}: duplicate plugin name \"{}\" (already provided by {})",
                                  entry.path.string(), info->name, it->second.string()));
      entry.worker->Quit();
      entry.worker.reset();
      continue;
    }
    entry.info = std::move(info).value();
  }
  return catalog;
}

Result<CatalogEntry*> PluginCatalog::Select(const std::string& stage,
                                            const std::optional<std::string>& plugin) {
  std::optional<stagehost_stage_type> stage_type = StageTypeFromName(stage);
  std::string wanted_name = plugin.value_or(stage_type ? "" : stage);
  std::vector<CatalogEntry*> matches;
  for (CatalogEntry& entry : entries_) {
    if (!entry.info) continue;
    if (!wanted_name.empty() && entry.info->name != wanted_name) continue;
    if (stage_type && entry.info->stage_type != *stage_type) {
      if (!wanted_name.empty()) {
        return InvalidArgument(fmt::format("plugin {} implements stage {}, not {}", wanted_name,
                                           StageTypeName(entry.info->stage_type), stage));
      }
      continue;
    }
    matches.push_back(&entry);
  }
  if (matches.size() > 1) {
    size_t best = matches.front()->search_rank;  // entries are in search-path order
    std::erase_if(matches, [best](CatalogEntry* entry) { return entry->search_rank != best; });
  }

  if (matches.size() == 1) {
    for (CatalogEntry& entry : entries_) {
      if (&entry != matches[0] && entry.worker) entry.worker->Quit();
    }
    return matches[0];
  }
  QuitAll();
  if (matches.size() > 1) {
    std::vector<std::string> names;
    for (CatalogEntry* entry : matches) names.push_back(entry->info->name);
    return InvalidArgument(fmt::format(
        "several plugins in one folder implement stage {}: {}; choose one with --plugin", stage,
        Join(names)));
  }
  std::vector<std::string> searched, refused;
  for (const fs::path& dir : search_path_) searched.push_back(dir.string());
  for (const CatalogEntry& entry : entries_) {
    if (!entry.info) refused.push_back(entry.error.message());
  }
  std::string what = wanted_name.empty() ? fmt::format("no plugin implements stage {}", stage)
                                         : fmt::format("no plugin named {}", wanted_name);
  std::string message = fmt::format("{} (searched: {})", what, Join(searched));
  if (!refused.empty()) {
    message += fmt::format("; {} plugin file(s) refused:", refused.size());
    for (const std::string& reason : refused) message += "\n  " + reason;
  }
  return NotFound(message);
}

std::vector<const CatalogEntry*> PluginCatalog::ShadowedBy(const CatalogEntry& chosen) const {
  std::vector<const CatalogEntry*> shadowed;
  for (const CatalogEntry& entry : entries_) {
    if (&entry != &chosen && entry.info && entry.info->stage_type == chosen.info->stage_type) {
      shadowed.push_back(&entry);
    }
  }
  return shadowed;
}

Status EnsureDigest(CatalogEntry& entry) {
  if (!entry.info || !entry.info->sha256.empty()) return Status::Ok();
  if (!entry.fd.valid()) return Internal(entry.path.string() + ": no verified file to hash");
  Result<std::string> digest = Sha256HexOfFd(entry.fd.get());
  if (!digest.ok()) return digest.status().WithContext(entry.path.string());
  entry.info->sha256 = std::move(digest).value();
  return Status::Ok();
}

void PluginCatalog::QuitAll() {
  for (CatalogEntry& entry : entries_) {
    if (entry.worker) {
      entry.worker->Quit();
      entry.worker.reset();
    }
  }
}

}  // namespace stagehost
