// glob.cc -- a small segment-wise glob matcher and a sorted, symlink-free directory walk.
#include "glob.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "normalise.h"

namespace stagehost::unit_test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

bool MatchParts(const std::vector<std::string_view>& pat, std::size_t p,
                const std::vector<std::string_view>& path, std::size_t q) {
  if (p == pat.size()) return q == path.size();
  if (pat[p] == "**") {
    for (std::size_t skip = q; skip <= path.size(); ++skip) {
      if (MatchParts(pat, p + 1, path, skip)) return true;
    }
    return false;
  }
  return q < path.size() && WildcardMatch(pat[p], path[q]) && MatchParts(pat, p + 1, path, q + 1);
}

// True when every path below `dir` matches `pattern` ("<prefix>/**" with `dir` matching prefix).
bool CoversDirectory(std::string_view pattern, std::string_view dir) {
  if (pattern.size() < 3 || pattern.substr(pattern.size() - 3) != "/**") return false;
  return GlobMatch(pattern.substr(0, pattern.size() - 3), dir);
}

void Walk(const fs::path& dir, const std::string& rel, const std::vector<std::string>& include,
          const std::vector<std::string>& exclude, std::vector<std::string>& out, int depth) {
  if (depth > 64) return;
  std::error_code ec;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::string child = rel.empty() ? name : rel + "/" + name;
    fs::file_status status = it->symlink_status(ec);
    if (ec) continue;
    if (fs::is_directory(status)) {
      bool skip = std::any_of(exclude.begin(), exclude.end(),
                              [&](const std::string& e) { return CoversDirectory(e, child); });
      if (!skip) Walk(it->path(), child, include, exclude, out, depth + 1);
    } else if (fs::is_regular_file(status)) {
      auto match = [&](const std::string& g) { return GlobMatch(g, child); };
      if (std::any_of(include.begin(), include.end(), match) &&
          !std::any_of(exclude.begin(), exclude.end(), match)) {
        out.push_back(child);
      }
    }
  }
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) {
  return MatchParts(Split(pattern), 0, Split(path), 0);
}

std::string CheckGlob(std::string_view pattern, const std::string& where) {
  std::string prefix = where + " \"" + std::string(pattern) + "\": ";
  if (pattern.empty()) return prefix + "empty pattern";
  if (pattern.front() == '/') return prefix + "patterns are relative to the workspace";
  for (std::string_view part : Split(pattern)) {
    if (part.empty()) return prefix + "empty path segment";
    if (part == "..") return prefix + "'..' would leave the workspace";
  }
  return "";
}

std::vector<std::string> FindFiles(const std::string& root, const std::vector<std::string>& include,
                                   const std::vector<std::string>& exclude) {
  std::vector<std::string> out;
  Walk(fs::path(root), "", include, exclude, out, 0);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace stagehost::unit_test
