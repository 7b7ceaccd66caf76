// with_report.cc -- "file-inventory": a stage plugin with a real configuration and a report.
//
// Lists the regular files under the workspace that match the configured `include` globs and none
// of the `exclude` globs, with their sizes, and writes them to file-inventory.json in the artifact
// directory. Shows what most plugins need: a JSON Schema with defaults, config parsing (here with
// nlohmann/json, linked privately into the plugin), BadConfig for values the schema cannot rule
// out, progress, cancellation, an artifact with a media type, an output, and the difference
// between "the project failed" (Outcome::kFailed) and "the stage could not run" (an exception).
//
//   stagehost run file-inventory --workspace examples --artifacts out
//   echo '{"include": ["**/*.onnx"], "fail_on_empty": true}' > onnx.json
//   stagehost run file-inventory --workspace examples --config onnx.json   # exit 1: no match
//
// Stage type: an inventory of what a workspace would ship is an audit step, so it declares
// security-scan. It looks for no vulnerabilities and claims none.
#include <stagehost/plugin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace sdk = stagehost::sdk;

// ---- Globs -------------------------------------------------------------------------------------
// A pattern is matched against a workspace-relative path with '/' separators, segment by segment:
// "**" as a whole segment matches zero or more segments; within a segment '*' matches any run of
// characters, '?' one character, "[a-z_]" one of a set and "[!a-z]" (or "[^a-z]") one outside it.

// One element of a pattern segment.
struct Token {
  enum Kind { kLiteral, kAnyChar, kStar, kClass };
  explicit Token(Kind k, char c = 0) : kind(k), literal(c) {}

  Kind kind;
  char literal;
  bool negated = false;
  std::vector<std::pair<char, char>> ranges;  // kClass: inclusive ranges

  bool Matches(char c) const {
    switch (kind) {
      case kLiteral:
        return c == literal;
      case kAnyChar:
        return true;
      case kClass: {
        bool in = std::any_of(ranges.begin(), ranges.end(),
                              [c](const auto& r) { return r.first <= c && c <= r.second; });
        return in != negated;
      }
      case kStar:
        break;
    }
    return false;
  }
};

struct Segment {
  bool any_depth = false;     // "**"
  std::vector<Token> tokens;  // otherwise
};

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

class Glob {
 public:
  // Throws BadConfig naming `where` (e.g. "include[2]") when the pattern cannot be used.
  Glob(std::string pattern, const std::string& where) : text_(std::move(pattern)) {
    auto bad = [&](const std::string& why) {
      return sdk::BadConfig(where + " \"" + text_ + "\": " + why);
    };
    if (text_.empty()) throw bad("empty pattern");
    if (text_.front() == '/') {
      throw bad("patterns are relative to the workspace; drop the leading '/'");
    }
    if (text_.back() == '/') {
      throw bad("only files are listed; write \"" + text_ + "**\" for everything below");
    }
    for (std::string_view part : SplitPath(text_)) {
      if (part.empty()) throw bad("empty path segment ('//')");
      if (part == "." || part == "..") throw bad("'.' and '..' segments are not allowed");
      Segment segment;
      if (part == "**") {
        segment.any_depth = true;
      } else if (!ParseSegment(part, segment.tokens)) {
        throw bad("unterminated '[' character class");
      }
      segments_.push_back(std::move(segment));
    }
  }

  const std::string& text() const { return text_; }

  bool Matches(const std::vector<std::string_view>& path) const {
    return MatchFrom(0, segments_.size(), path, 0);
  }

  // True when every path below directory `dir` matches: the pattern is "<prefix>/**" and `dir`
  // matches <prefix>. Lets an exclude pattern such as ".git/**" skip the walk of a whole tree.
  bool CoversDirectory(const std::vector<std::string_view>& dir) const {
    return segments_.size() >= 2 && segments_.back().any_depth &&
           MatchFrom(0, segments_.size() - 1, dir, 0);
  }

 private:
  static bool ParseSegment(std::string_view part, std::vector<Token>& tokens) {
    for (std::size_t i = 0; i < part.size(); ++i) {
      char c = part[i];
      if (c == '*') {
        // "**" inside a segment ("a**b") means the same as '*'.
        if (tokens.empty() || tokens.back().kind != Token::kStar) tokens.emplace_back(Token::kStar);
      } else if (c == '?') {
        tokens.emplace_back(Token::kAnyChar);
      } else if (c == '[') {
        Token cls(Token::kClass);
        std::size_t j = i + 1;
        if (j < part.size() && (part[j] == '!' || part[j] == '^')) {
          cls.negated = true;
          ++j;
        }
        bool first = true;
        for (; j < part.size() && (first || part[j] != ']'); ++j, first = false) {
          char lo = part[j];
          char hi = lo;
          if (j + 2 < part.size() && part[j + 1] == '-' && part[j + 2] != ']') {
            hi = part[j + 2];
            j += 2;
          }
          cls.ranges.emplace_back(lo, hi);
        }
        if (j >= part.size()) return false;
        tokens.push_back(std::move(cls));
        i = j;  // at the closing ']'
      } else {
        tokens.emplace_back(Token::kLiteral, c);
      }
    }
    return true;
  }

  // Wildcard match of one segment with backtracking to the last '*'.
  static bool MatchSegment(const std::vector<Token>& tokens, std::string_view text) {
    std::size_t t = 0, s = 0;
    std::size_t star = std::string_view::npos, star_s = 0;
    while (s < text.size()) {
      if (t < tokens.size() && tokens[t].kind == Token::kStar) {
        star = t++;
        star_s = s;
      } else if (t < tokens.size() && tokens[t].Matches(text[s])) {
        ++t;
        ++s;
      } else if (star != std::string_view::npos) {
        t = star + 1;
        s = ++star_s;
      } else {
        return false;
      }
    }
    while (t < tokens.size() && tokens[t].kind == Token::kStar) ++t;
    return t == tokens.size();
  }

  bool MatchFrom(std::size_t g, std::size_t g_end, const std::vector<std::string_view>& path,
                 std::size_t p) const {
    if (g == g_end) return p == path.size();
    if (segments_[g].any_depth) {
      for (std::size_t skip = p; skip <= path.size(); ++skip) {
        if (MatchFrom(g + 1, g_end, path, skip)) return true;
      }
      return false;
    }
    return p < path.size() && MatchSegment(segments_[g].tokens, path[p]) &&
           MatchFrom(g + 1, g_end, path, p + 1);
  }

  std::string text_;
  std::vector<Segment> segments_;
};

std::vector<Glob> CompileGlobs(const std::vector<std::string>& patterns, const char* key) {
  std::vector<Glob> globs;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    globs.emplace_back(patterns[i], std::string(key) + "[" + std::to_string(i) + "]");
  }
  return globs;
}

// ---- The plugin --------------------------------------------------------------------------------

struct FileEntry {
  std::string path;  // relative to the workspace, '/'-separated
  std::uintmax_t size = 0;
};

class FileInventory {
 public:
  static constexpr const char* kName = "file-inventory";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr sdk::StageType kStageType = sdk::StageType::kSecurityScan;
  static constexpr const char* kDescription =
      "Lists the workspace files matching include/exclude globs, with sizes, as a JSON report";
  static constexpr const char* kVendor = "stagehost SDK examples";
  static constexpr const char* kLicense = "Apache-2.0";
  // JSON Schema draft-07. The host validates the config against it before the constructor runs
  // and, because the object lists "properties" without "additionalProperties", treats any other
  // key as an error. The host does not fill in defaults: the constructor applies them.
  static constexpr const char* kConfigSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "file-inventory configuration",
  "type": "object",
  "properties": {
    "include": {
      "description": "Globs, relative to the workspace, of the files to list. '*' and '?' stay within one path segment, '**' spans segments, [abc] and [!abc] are character classes.",
      "type": "array",
      "items": {"type": "string", "minLength": 1},
      "minItems": 1,
      "default": ["**/*"]
    },
    "exclude": {
      "description": "Globs of files to leave out; a glob ending in '/**' also skips the whole directory.",
      "type": "array",
      "items": {"type": "string", "minLength": 1},
      "default": [".git/**", "stagehost-reports/**"]
    },
    "max_files": {
      "description": "List at most this many files; the report says when more matched.",
      "type": "integer",
      "minimum": 1,
      "default": 10000
    },
    "fail_on_empty": {
      "description": "Fail the stage when no file matches.",
      "type": "boolean",
      "default": false
    }
  }
})";

  static constexpr const char* kReportFile = "file-inventory.json";

  FileInventory(const sdk::Context& ctx, std::string_view config_json) : ctx_(ctx) {
    // The host has validated the shape and types; what is left are the semantic checks.
    const nlohmann::json config = nlohmann::json::parse(config_json);
    include_ = CompileGlobs(config.value("include", std::vector<std::string>{"**/*"}), "include");
    // By default, skip Git's metadata and the reports of earlier stagehost runs (the host's default
    // artifact directory is <workspace>/stagehost-reports/<plugin>).
    exclude_ = CompileGlobs(
        config.value("exclude", std::vector<std::string>{".git/**", "stagehost-reports/**"}),
        "exclude");
    max_files_ = config.value("max_files", std::uint64_t{10000});
    fail_on_empty_ = config.value("fail_on_empty", false);
  }

  // Any thread, any time: only sets a flag, which the walk polls next to ctx.cancelled().
  void RequestCancel() noexcept { cancel_requested_.store(true, std::memory_order_relaxed); }

  sdk::Outcome Run(const sdk::RunInput& input) {
    const fs::path workspace{std::string(input.workspace_dir())};
    ctx_.Progress(0, "scanning " + workspace.string());
    Walk(workspace);

    std::uintmax_t total_bytes = 0;
    for (const FileEntry& file : files_) {
      total_bytes += file.size;
      ctx_.Debug(file.path + " (" + std::to_string(file.size) + " bytes)");
    }

    ctx_.Progress(950, "writing the report");
    // ordered_json keeps the keys in the order written here, which reads better than sorted.
    nlohmann::ordered_json report = {
        {"plugin", kName},
        {"plugin_version", kVersion},
        {"workspace", workspace.string()},
        {"include", Patterns(include_)},
        {"exclude", Patterns(exclude_)},
        {"max_files", max_files_},
        {"truncated", truncated_},
        {"file_count", files_.size()},
        {"total_bytes", total_bytes},
        {"files", nlohmann::ordered_json::array()},
    };
    for (const FileEntry& file : files_) {
      report["files"].push_back({{"path", file.path}, {"size", file.size}});
    }
    // File names need not be UTF-8; replace invalid bytes rather than fail the dump.
    std::string text =
        report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    ctx_.WriteArtifact(input, kReportFile, text, "file inventory", "application/json");
    ctx_.SetOutput("file_count", std::to_string(files_.size()));
    ctx_.SetOutput("total_bytes", std::to_string(total_bytes));
    ctx_.Progress(1000, "done");

    ctx_.Info("file-inventory: " + std::to_string(files_.size()) + " files, " +
              std::to_string(total_bytes) + " bytes; report: " + std::string(input.artifact_dir()) +
              "/" + kReportFile);
    if (truncated_) {
      ctx_.Warn("file-inventory: more than max_files=" + std::to_string(max_files_) +
                " files matched; the report lists the first " + std::to_string(max_files_) +
                " in path order");
    }
    if (files_.empty()) {
      std::string message = "file-inventory: no file matched include " + Patterns(include_).dump();
      if (fail_on_empty_) {
        ctx_.Error(message + " (fail_on_empty is set)");
        return sdk::Outcome::kFailed;
      }
      ctx_.Warn(message);
    }
    return sdk::Outcome::kPassed;
  }

 private:
  static nlohmann::json Patterns(const std::vector<Glob>& globs) {
    nlohmann::json out = nlohmann::json::array();
    for (const Glob& glob : globs) out.push_back(glob.text());
    return out;
  }

  void CheckCancelled() const {
    // Don't log here: once the run is cancelled, log calls throw sdk::Cancelled themselves.
    if (cancel_requested_.load(std::memory_order_relaxed) || ctx_.cancelled()) {
      throw sdk::Cancelled();
    }
  }

  // Walks the workspace in sorted path order, so the report (and the subset kept when truncated)
  // is the same on every machine. Follows no symlink and lists regular files only.
  void Walk(const fs::path& workspace) {
    std::error_code ec;
    if (!fs::is_directory(workspace, ec)) {
      throw std::runtime_error("workspace " + workspace.string() + " is not a directory");
    }
    std::vector<fs::directory_entry> top = SortedEntries(workspace);
    for (std::size_t i = 0; i < top.size() && !truncated_; ++i) {
      Visit(top[i], "");
      ctx_.Progress(static_cast<std::uint32_t>(900 * (i + 1) / top.size()),
                    "scanned " + top[i].path().filename().string());
    }
  }

  void Visit(const fs::directory_entry& entry, const std::string& parent) {
    CheckCancelled();
    std::string rel = parent.empty() ? entry.path().filename().string()
                                     : parent + "/" + entry.path().filename().string();
    std::vector<std::string_view> segments = SplitPath(rel);
    std::error_code ec;
    fs::file_status status = entry.symlink_status(ec);
    if (ec) {
      ctx_.Warn("file-inventory: skipping " + rel + ": " + ec.message());
      return;
    }
    if (fs::is_directory(status)) {
      for (const Glob& glob : exclude_) {
        if (glob.CoversDirectory(segments)) return;
      }
      for (const fs::directory_entry& child : SortedEntries(entry.path())) {
        if (truncated_) return;
        Visit(child, rel);
      }
      return;
    }
    if (!fs::is_regular_file(status)) return;
    auto matches = [&](const Glob& glob) { return glob.Matches(segments); };
    if (!std::any_of(include_.begin(), include_.end(), matches) ||
        std::any_of(exclude_.begin(), exclude_.end(), matches)) {
      return;
    }
    if (files_.size() == max_files_) {
      truncated_ = true;  // one match more than we keep: stop the walk
      return;
    }
    std::uintmax_t size = entry.file_size(ec);
    if (ec) {
      ctx_.Warn("file-inventory: cannot read the size of " + rel + ": " + ec.message());
      size = 0;
    }
    files_.push_back({std::move(rel), size});
  }

  std::vector<fs::directory_entry> SortedEntries(const fs::path& dir) const {
    std::vector<fs::directory_entry> entries;
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      CheckCancelled();
      entries.push_back(*it);
    }
    if (ec) ctx_.Warn("file-inventory: cannot list " + dir.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.path().filename().native() < b.path().filename().native();
    });
    return entries;
  }

  const sdk::Context& ctx_;
  std::vector<Glob> include_;
  std::vector<Glob> exclude_;
  std::uint64_t max_files_ = 10000;
  bool fail_on_empty_ = false;
  std::atomic<bool> cancel_requested_{false};

  std::vector<FileEntry> files_;
  bool truncated_ = false;
};

}  // namespace

STAGEHOST_PLUGIN(FileInventory)
