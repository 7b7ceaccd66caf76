// secrets.cc -- Hyperscan candidate pass + RE2 confirmation for secret rules (see secrets.h).
//
// Hyperscan reports match ends only. For a single-line rule the candidate region is the line that
// holds the end; RE2 then finds every match of that rule on the line with its capture groups.
// Multi-line rules use HS_FLAG_SOM_LEFTMOST and confirm from the reported start. Rules Hyperscan
// rejects are confirmed by RE2 on the lines where one of their keywords occurs (the keywords are
// literals in the same database), so no rule ever makes its own pass over the data.
#include "secrets.h"

#include <hs/hs.h>
#include <re2/re2.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace stagehost::security_scan {
namespace {

constexpr unsigned kKeywordIdBase = 1u << 20;
constexpr std::size_t kMaxCandidatesPerBuffer = 200000;
constexpr std::size_t kMultilineWindow = 64 * 1024;

std::unique_ptr<RE2> CompileRe2(const std::string& pattern, const std::string& what) {
  RE2::Options opt;
  opt.set_log_errors(false);
  opt.set_encoding(RE2::Options::EncodingLatin1);
  auto re = std::make_unique<RE2>(pattern, opt);
  if (!re->ok()) throw std::runtime_error(what + ": invalid regex: " + re->error());
  return re;
}

bool ContainsCaseless(std::string_view hay, std::string_view lower_needle) {
  if (lower_needle.empty()) return true;
  if (hay.size() < lower_needle.size()) return false;
  const char first = lower_needle[0];
  const char first_up = static_cast<char>(std::toupper(static_cast<unsigned char>(first)));
  for (std::size_t i = 0; i + lower_needle.size() <= hay.size(); ++i) {
    if (hay[i] != first && hay[i] != first_up) continue;
    std::size_t j = 1;
    for (; j < lower_needle.size(); ++j) {
      if (std::tolower(static_cast<unsigned char>(hay[i + j])) != lower_needle[j]) break;
    }
    if (j == lower_needle.size()) return true;
  }
  return false;
}

// A regex matching `literal` byte for byte, for the keyword patterns of fallback rules.
std::string EscapeLiteral(std::string_view literal) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : literal) {
    out += "\\x";
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// A database hs_serialize_database wrote to `file`, or null (missing, unreadable, other platform).
hs_database_t* LoadCachedDatabase(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return nullptr;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  hs_database_t* db = nullptr;
  if (bytes.empty() || hs_deserialize_database(bytes.data(), bytes.size(), &db) != HS_SUCCESS) {
    return nullptr;
  }
  return db;
}

// Best effort: a cache that cannot be written only costs the next run a compile.
void StoreCachedDatabase(const hs_database_t* db, const std::string& file) {
  char* bytes = nullptr;
  std::size_t size = 0;
  if (hs_serialize_database(db, &bytes, &size) != HS_SUCCESS) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
  // Written under a unique name and renamed, so concurrent runs never read a partial file.
  const std::string tmp = file + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes, static_cast<std::streamsize>(size));
    if (!out.flush()) ec = std::make_error_code(std::errc::io_error);
  }
  std::free(bytes);
  if (!ec) std::filesystem::rename(tmp, file, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

struct CompiledAllowlist {
  bool match_all = false;
  std::vector<std::unique_ptr<RE2>> paths;
  std::vector<std::unique_ptr<RE2>> regexes;
  std::string target;
  std::vector<std::string> stopwords;
};

CompiledAllowlist CompileAllowlist(const Allowlist& a, const std::string& what) {
  CompiledAllowlist c;
  c.match_all = a.match_all;
  for (const auto& p : a.paths) c.paths.push_back(CompileRe2(p, what + " allowlist path"));
  for (const auto& r : a.regexes) c.regexes.push_back(CompileRe2(r, what + " allowlist regex"));
  c.target = a.regex_target;
  c.stopwords = a.stopwords;
  return c;
}

// gitleaks semantics: OR = any criterion that is set matches; AND = all criteria that are set.
bool Allowed(const CompiledAllowlist& a, std::string_view path, std::string_view secret,
             std::string_view match, std::string_view line) {
  std::vector<bool> results;
  if (!a.paths.empty()) {
    bool any = false;
    for (const auto& re : a.paths)
      any = any || RE2::PartialMatch(re2::StringPiece(path.data(), path.size()), *re);
    results.push_back(any);
  }
  if (!a.regexes.empty()) {
    std::string_view target = a.target == "match" ? match : a.target == "line" ? line : secret;
    bool any = false;
    for (const auto& re : a.regexes) {
      any = any || RE2::PartialMatch(re2::StringPiece(target.data(), target.size()), *re);
    }
    results.push_back(any);
  }
  if (!a.stopwords.empty()) {
    bool any = false;
    for (const auto& w : a.stopwords) any = any || ContainsCaseless(secret, w);
    results.push_back(any);
  }
  if (results.empty()) return false;
  if (a.match_all) return std::all_of(results.begin(), results.end(), [](bool b) { return b; });
  return std::any_of(results.begin(), results.end(), [](bool b) { return b; });
}

struct CompiledRule {
  Rule rule;
  std::unique_ptr<RE2> re;       // null for path-only rules
  std::unique_ptr<RE2> path_re;  // null when the rule applies everywhere
  std::vector<CompiledAllowlist> allowlists;
  int group = 0;  // capture group holding the secret (0 = whole match)
  bool in_hyperscan = false;
  bool som = false;
};

struct Candidate {
  std::size_t begin, end;  // region to confirm
  unsigned rule;
  bool operator<(const Candidate& o) const {
    return begin != o.begin ? begin < o.begin : rule < o.rule;
  }
  bool operator==(const Candidate& o) const { return begin == o.begin && rule == o.rule; }
};

std::size_t LineStart(std::string_view data, std::size_t pos) {
  while (pos > 0 && data[pos - 1] != '\n') --pos;
  return pos;
}

std::size_t LineEnd(std::string_view data, std::size_t pos) {
  if (pos >= data.size()) return data.size();
  const void* nl = std::memchr(data.data() + pos, '\n', data.size() - pos);
  return nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
}

bool InlineAllowed(std::string_view line) {
  return line.find("stagehost:allow") != std::string_view::npos ||
         line.find("gitleaks:allow") != std::string_view::npos;
}

}  // namespace

class SecretScanner::Scratch {
 public:
  explicit Scratch(hs_scratch_t* s) : scratch(s) {}
  ~Scratch() {
    if (scratch) hs_free_scratch(scratch);
  }
  hs_scratch_t* scratch;
  std::vector<Candidate> candidates;
  std::vector<std::size_t> region_end;  // per rule: end of the last candidate region
};

struct SecretScanner::Impl {
  std::string source;
  std::vector<CompiledRule> rules;
  std::vector<CompiledAllowlist> global;
  std::vector<std::string> fallback_names;
  // Keyword literal k (HS id kKeywordIdBase + k) → fallback rules that list it.
  std::vector<std::vector<unsigned>> keyword_rules;
  std::vector<unsigned> unkeyed_fallback;  // fallback rules with no keyword: RE2 over the buffer
  hs_database_t* db = nullptr;
  hs_scratch_t* proto = nullptr;
  bool cache_hit = false;
  SecretScanOptions options;

  ~Impl() {
    if (proto) hs_free_scratch(proto);
    if (db) hs_free_database(db);
  }

  void Compile();
  void Scan(Scratch& s, std::string_view path, std::string_view data, std::string_view locate_in,
            std::size_t line_offset, bool decode, const char* tag, std::vector<Finding>& out) const;
  void Confirm(const Candidate& c, std::string_view path, std::string_view data,
               std::string_view locate_in, std::size_t line_no, const char* tag,
               std::vector<Finding>& out) const;
  void DecodeBase64Blobs(Scratch& s, std::string_view path, std::string_view data,
                         std::string_view locate_in, std::vector<Finding>& out) const;

  struct MatchContext {
    const Impl* impl;
    Scratch* scratch;
    std::string_view data;
    bool overflow = false;
  };
  static int OnMatch(unsigned int id, unsigned long long from, unsigned long long to,
                     unsigned int flags, void* ctx_ptr);
};

void SecretScanner::Impl::Compile() {
  // Which rules go to Hyperscan; retried without the rule Hyperscan names in its error.
  std::vector<bool> excluded(rules.size(), false);
  for (std::size_t i = 0; i < rules.size(); ++i) excluded[i] = !rules[i].re;
  while (true) {
    std::vector<std::string> patterns;
    std::vector<unsigned> flags, ids;
    std::vector<std::vector<unsigned>> kw_rules;
    std::vector<std::string> kw_literals;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      CompiledRule& r = rules[i];
      if (excluded[i]) continue;
      const bool som = !r.rule.hs_regex.empty();
      patterns.push_back(som ? r.rule.hs_regex : r.rule.regex);
      flags.push_back(HS_FLAG_MULTILINE | (som ? HS_FLAG_SOM_LEFTMOST : 0u));
      ids.push_back(static_cast<unsigned>(i));
    }
    const std::size_t regex_count = patterns.size();
    for (std::size_t i = 0; i < rules.size(); ++i) {
      if (!excluded[i] || !rules[i].re) continue;
      for (const auto& kw : rules[i].rule.keywords) {
        auto it = std::find(kw_literals.begin(), kw_literals.end(), kw);
        if (it == kw_literals.end()) {
          kw_literals.push_back(kw);
          kw_rules.emplace_back();
          it = kw_literals.end() - 1;
        }
        kw_rules[static_cast<std::size_t>(it - kw_literals.begin())].push_back(
            static_cast<unsigned>(i));
      }
    }
    for (std::size_t k = 0; k < kw_literals.size(); ++k) {
      patterns.push_back(EscapeLiteral(kw_literals[k]));
      flags.push_back(HS_FLAG_CASELESS);
      ids.push_back(kKeywordIdBase + static_cast<unsigned>(k));
    }
    if (patterns.empty()) break;
    std::vector<const char*> cpatterns;
    for (const auto& p : patterns) cpatterns.push_back(p.c_str());
    // The compiled database is cached, keyed by everything that goes into it.
    std::string key_material = std::string(hs_version()) + '\0';
    for (std::size_t k = 0; k < patterns.size(); ++k) {
      key_material +=
          patterns[k] + '\0' + std::to_string(flags[k]) + ':' + std::to_string(ids[k]) + '\0';
    }
    const std::string cache_file = options.cache_dir.empty() ? std::string()
                                                             : options.cache_dir + "/hyperscan-" +
                                                                   Sha256Hex(key_material) + ".db";
    if (!cache_file.empty() && (db = LoadCachedDatabase(cache_file)) != nullptr) {
      cache_hit = true;
      keyword_rules = std::move(kw_rules);
      break;
    }
    hs_compile_error_t* err = nullptr;
    hs_database_t* compiled = nullptr;
    if (hs_compile_multi(cpatterns.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr, &compiled,
                         &err) == HS_SUCCESS) {
      db = compiled;
      keyword_rules = std::move(kw_rules);
      if (!cache_file.empty()) StoreCachedDatabase(db, cache_file);
      break;
    }
    const int bad = err->expression;
    const std::string message = err->message;
    hs_free_compile_error(err);
    if (bad < 0 || static_cast<std::size_t>(bad) >= regex_count) {
      throw std::runtime_error("hyperscan could not build the rule database: " + message);
    }
    excluded[ids[static_cast<std::size_t>(bad)]] = true;
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    rules[i].in_hyperscan = !excluded[i];
    rules[i].som = rules[i].in_hyperscan && !rules[i].rule.hs_regex.empty();
    if (excluded[i] && rules[i].re) {
      fallback_names.push_back(rules[i].rule.id);
      if (rules[i].rule.keywords.empty()) unkeyed_fallback.push_back(static_cast<unsigned>(i));
    }
  }
  if (db && hs_alloc_scratch(db, &proto) != HS_SUCCESS) {
    throw std::runtime_error("hyperscan: cannot allocate scratch space");
  }
}

// Hyperscan match callback: turns a match end into a candidate region, once per rule and line.
int SecretScanner::Impl::OnMatch(unsigned int id, unsigned long long from, unsigned long long to,
                                 unsigned int /*flags*/, void* ctx_ptr) {
  auto* ctx = static_cast<MatchContext*>(ctx_ptr);
  auto& s = *ctx->scratch;
  if (s.candidates.size() >= kMaxCandidatesPerBuffer) {
    ctx->overflow = true;
    return 1;  // stop: the buffer is pathological; what was found so far is still confirmed
  }
  const std::string_view data = ctx->data;
  if (id >= kKeywordIdBase) {
    const auto& owners = ctx->impl->keyword_rules[id - kKeywordIdBase];
    const std::size_t begin = LineStart(data, static_cast<std::size_t>(from == 0 ? to - 1 : from));
    for (unsigned r : owners) {
      if (to <= s.region_end[r] && s.region_end[r] != 0) continue;
      const std::size_t end = ctx->impl->rules[r].rule.multiline
                                  ? std::min(data.size(), begin + kMultilineWindow)
                                  : LineEnd(data, static_cast<std::size_t>(to));
      s.region_end[r] = end;
      s.candidates.push_back({begin, end, r});
    }
    return 0;
  }
  const CompiledRule& rule = ctx->impl->rules[id];
  if (rule.som) {
    const std::size_t begin = LineStart(data, static_cast<std::size_t>(from));
    if (begin < s.region_end[id]) return 0;
    const std::size_t end = std::min(data.size(), begin + kMultilineWindow);
    s.region_end[id] = end;
    s.candidates.push_back({begin, end, id});
    return 0;
  }
  if (to <= s.region_end[id] && s.region_end[id] != 0) return 0;
  const std::size_t end = LineEnd(data, static_cast<std::size_t>(to));
  // The region starts at the line of the match end (single-line rules cannot span lines).
  const std::size_t begin = LineStart(data, static_cast<std::size_t>(to > 0 ? to - 1 : 0));
  s.region_end[id] = end;
  s.candidates.push_back({begin, end, id});
  return 0;
}

void SecretScanner::Impl::Scan(Scratch& s, std::string_view path, std::string_view data,
                               std::string_view locate_in, std::size_t line_offset, bool decode,
                               const char* tag, std::vector<Finding>& out) const {
  s.candidates.clear();
  s.region_end.assign(rules.size(), 0);
  if (db && !data.empty()) {
    MatchContext ctx{this, &s, data};
    hs_error_t rc =
        hs_scan(db, data.data(), static_cast<unsigned>(data.size()), 0, s.scratch, OnMatch, &ctx);
    if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
      throw std::runtime_error("hyperscan scan failed on " + std::string(path));
    }
  }
  for (unsigned r : unkeyed_fallback) s.candidates.push_back({0, data.size(), r});
  std::sort(s.candidates.begin(), s.candidates.end());
  s.candidates.erase(std::unique(s.candidates.begin(), s.candidates.end()), s.candidates.end());
  // Line numbers by counting newlines forward from the previous candidate (sorted by offset).
  std::size_t counted_to = 0, line = 1;
  for (const Candidate& c : s.candidates) {
    line +=
        static_cast<std::size_t>(std::count(data.data() + counted_to, data.data() + c.begin, '\n'));
    counted_to = c.begin;
    Confirm(c, path, data, locate_in, line + line_offset, tag, out);
  }
  if (decode) DecodeBase64Blobs(s, path, data, locate_in, out);
}

void SecretScanner::Impl::Confirm(const Candidate& c, std::string_view path, std::string_view data,
                                  std::string_view locate_in, std::size_t line_no, const char* tag,
                                  std::vector<Finding>& out) const {
  const CompiledRule& r = rules[c.rule];
  if (r.path_re && !RE2::PartialMatch(re2::StringPiece(path.data(), path.size()), *r.path_re)) {
    return;
  }
  const std::string_view region = data.substr(c.begin, c.end - c.begin);
  const int ngroups = r.re->NumberOfCapturingGroups();
  const int want = std::min(r.group, ngroups);
  std::vector<re2::StringPiece> groups(static_cast<std::size_t>(ngroups) + 1);
  re2::StringPiece text(region.data(), region.size());
  std::size_t pos = 0;
  while (pos <= region.size()) {
    if (!r.re->Match(text, pos, region.size(), RE2::UNANCHORED, groups.data(), ngroups + 1)) break;
    const re2::StringPiece whole = groups[0];
    const std::size_t mstart = static_cast<std::size_t>(whole.data() - region.data());
    pos = mstart + std::max<std::size_t>(whole.size(), 1);
    // The secret: the configured group, else the first group that matched, else the match.
    re2::StringPiece secret_sp = groups[static_cast<std::size_t>(want)];
    if (r.group == 0) {
      secret_sp = whole;
      for (int g = 1; g <= ngroups; ++g) {
        if (groups[static_cast<std::size_t>(g)].data()) {
          secret_sp = groups[static_cast<std::size_t>(g)];
          break;
        }
      }
    }
    if (!secret_sp.data() || secret_sp.empty()) continue;
    const std::string_view secret(secret_sp.data(), secret_sp.size());
    const std::string_view match(whole.data(), whole.size());
    const std::size_t abs = c.begin + static_cast<std::size_t>(secret_sp.data() - region.data());
    const std::size_t ls = LineStart(data, abs);
    const std::string_view line = data.substr(ls, LineEnd(data, abs) - ls);
    if (!r.rule.keywords.empty()) {
      bool any = false;
      for (const auto& kw : r.rule.keywords)
        any = any || ContainsCaseless(line, kw) || ContainsCaseless(match, kw);
      if (!any) continue;
    }
    if (r.rule.entropy > 0 && ShannonEntropy(secret) <= r.rule.entropy) continue;
    if (InlineAllowed(line)) continue;
    bool allowed = false;
    for (const auto& a : r.allowlists) allowed = allowed || Allowed(a, path, secret, match, line);
    for (const auto& a : global) allowed = allowed || Allowed(a, path, secret, match, line);
    if (allowed) continue;

    Finding f;
    f.kind = FindingKind::kSecret;
    f.severity = r.rule.severity;
    f.rule_id = r.rule.id;
    f.title = r.rule.description;
    f.path = std::string(path);
    // Line of the secret inside the region (multi-line regions start lines earlier).
    std::size_t secret_line = line_no + static_cast<std::size_t>(std::count(
                                            data.data() + c.begin, data.data() + abs, '\n'));
    if (!locate_in.empty()) {
      // Extracted text (notebook cells): the n-th occurrence of the secret in the text points at
      // the n-th occurrence in the real file, else at the first.
      std::size_t nth = 0;
      for (std::size_t p = data.find(secret); p != std::string_view::npos && p < abs;
           p = data.find(secret, p + 1)) {
        ++nth;
      }
      std::size_t at = locate_in.find(secret);
      for (std::size_t k = 0; k < nth && at != std::string_view::npos; ++k) {
        const std::size_t next = locate_in.find(secret, at + 1);
        if (next == std::string_view::npos) break;
        at = next;
      }
      secret_line = at == std::string_view::npos
                        ? line_no
                        : 1 + static_cast<std::size_t>(std::count(
                                  locate_in.begin(),
                                  locate_in.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    }
    f.line = static_cast<std::uint32_t>(secret_line);
    f.end_line = static_cast<std::uint32_t>(
        secret_line + static_cast<std::size_t>(std::count(secret.begin(), secret.end(), '\n')));
    f.column = locate_in.empty() ? static_cast<std::uint32_t>(abs - ls + 1) : 0;
    f.redacted = Redact(secret);
    // By line too: the same secret twice in one file is two findings, each fixed on its own.
    f.fingerprint = Fingerprint({r.rule.id, path, secret, std::to_string(f.line)});
    f.message = r.rule.description + " (" + f.redacted + ")";
    if (tag) {
      f.tags.push_back(tag);
      f.message += std::string(" [") + tag + "]";
    }
    f.tags.insert(f.tags.end(), r.rule.tags.begin(), r.rule.tags.end());
    out.push_back(std::move(f));
  }
}

namespace {

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::string DecodeBase64(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    const int v = Base64Value(c);
    if (v < 0) break;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

bool MostlyPrintable(std::string_view s) {
  if (s.size() < 16) return false;
  std::size_t printable = 0;
  for (unsigned char c : s)
    printable += (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t';
  return printable * 10 >= s.size() * 9;
}

}  // namespace

namespace {

constexpr std::size_t kMinBase64Run = 32, kMaxBase64Run = 16384;

// Character classes of the standard alphabet: 1 upper, 2 lower, 4 digit, 8 '+' or '/'.
const std::array<unsigned char, 256> kBase64Class = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = 1;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = 2;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = 4;
  t['+'] = t['/'] = 8;
  return t;
}();

bool InBase64(std::string_view data, std::size_t k) {
  return kBase64Class[static_cast<unsigned char>(data[k])] != 0;
}

#if defined(__SSE2__)
// Bit j set when p[j] is in the base64 alphabet, for 64 bytes (branch-free).
std::uint64_t Base64Mask64(const char* p) {
  const __m128i case_bit = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a'), z = _mm_set1_epi8('z');
  const __m128i d0 = _mm_set1_epi8('0'), d9 = _mm_set1_epi8('9');
  const __m128i plus = _mm_set1_epi8('+'), slash = _mm_set1_epi8('/');
  std::uint64_t mask = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i lower = _mm_or_si128(v, case_bit);  // letters fold onto 'a'..'z' exactly
    const __m128i letter = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(lower, a), lower),
                                         _mm_cmpeq_epi8(_mm_min_epu8(lower, z), lower));
    const __m128i digit = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, d0), v),
                                        _mm_cmpeq_epi8(_mm_min_epu8(v, d9), v));
    const __m128i sym = _mm_or_si128(_mm_cmpeq_epi8(v, plus), _mm_cmpeq_epi8(v, slash));
    const __m128i any = _mm_or_si128(_mm_or_si128(letter, digit), sym);
    mask |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(any)))
            << (16 * k);
  }
  return mask;
}
#endif

// The next run of kMinBase64Run+ alphabet bytes at or after `i` ([start, end)), given that
// data[i - 1], when any, is outside the alphabet. False when there is none.
bool NextBase64Run(std::string_view data, std::size_t i, std::size_t& start, std::size_t& end) {
  const std::size_t n = data.size();
#if defined(__SSE2__)
  // 64 bytes at a time: a mask of alphabet bytes; x has bit j set when bits j..j+31 all are.
  std::size_t carry = 0;  // alphabet bytes just before i, contiguous
  for (; i + 64 <= n; i += 64) {
    const std::uint64_t m = Base64Mask64(data.data() + i);
    std::uint64_t x = m;
    x &= x >> 1;
    x &= x >> 2;
    x &= x >> 4;
    x &= x >> 8;
    x &= x >> 16;
    const std::size_t lead = ~m ? static_cast<std::size_t>(__builtin_ctzll(~m)) : 64;
    if (carry + lead >= kMinBase64Run || x) {
      start = carry + lead >= kMinBase64Run ? i - carry
                                            : i + static_cast<std::size_t>(__builtin_ctzll(x));
      end = start + kMinBase64Run;
      while (end < n && InBase64(data, end)) ++end;
      return true;
    }
    carry = ~m ? static_cast<std::size_t>(__builtin_clzll(~m)) : carry + 64;
  }
  i -= carry;
#endif
  // Probing every kMinBase64Run-th byte (Boyer-Moore style): a run that long that starts at or
  // after `i` must contain data[i + kMinBase64Run - 1].
  while (i + kMinBase64Run <= n) {
    const std::size_t probe = i + kMinBase64Run - 1;
    if (!InBase64(data, probe)) {
      i = probe + 1;
      continue;
    }
    start = probe;
    while (start > i && InBase64(data, start - 1)) --start;
    if (start + kMinBase64Run > n || !InBase64(data, start + kMinBase64Run - 1)) {
      i = start + kMinBase64Run;  // this run is short, and no run starting before it is long
      continue;
    }
    end = probe + 1;
    while (end < n && InBase64(data, end)) ++end;
    if (end - start >= kMinBase64Run) return true;
    i = end;
  }
  return false;
}

}  // namespace

void SecretScanner::Impl::DecodeBase64Blobs(Scratch& s, std::string_view path,
                                            std::string_view data, std::string_view locate_in,
                                            std::vector<Finding>& out) const {
  std::size_t i = 0, line = 1, counted_to = 0, start = 0, end = 0;
  while (NextBase64Run(data, i, start, end)) {
    i = end;
    const std::size_t len = end - start;
    if (len > kMaxBase64Run) continue;
    // A blob must mix upper, lower and digits, which rules out hex digests and snake_case
    // identifiers cheaply (decoding those was most of the cost on source code).
    unsigned classes = 0;
    for (std::size_t k = start; k < end && classes != 7; ++k) {
      classes |= kBase64Class[static_cast<unsigned char>(data[k])] & 7u;
    }
    if (classes != 7) continue;
    const std::string decoded = DecodeBase64(data.substr(start, len));
    if (!MostlyPrintable(decoded)) continue;
    line +=
        static_cast<std::size_t>(std::count(data.data() + counted_to, data.data() + start, '\n'));
    counted_to = start;
    // Decoded text is scanned once (one level); its findings point at the blob's line.
    std::vector<Finding> inner;
    Scan(s, path, decoded, std::string_view(), line - 1, false, "decoded:base64", inner);
    for (auto& f : inner) {
      f.column = static_cast<std::uint32_t>(start - LineStart(data, start) + 1);
      if (!locate_in.empty()) f.column = 0;
      out.push_back(std::move(f));
    }
  }
}

SecretScanner::SecretScanner(RuleSet rules, SecretScanOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->source = rules.source;
  impl_->options = std::move(options);
  for (auto& rule : rules.rules) {
    CompiledRule c;
    const std::string what = "rule " + rule.id;
    if (!rule.regex.empty()) c.re = CompileRe2(rule.regex, what);
    if (!rule.path.empty()) c.path_re = CompileRe2(rule.path, what + " path");
    for (const auto& a : rule.allowlists) c.allowlists.push_back(CompileAllowlist(a, what));
    c.group = rule.secret_group;
    if (c.re && c.group > c.re->NumberOfCapturingGroups()) {
      throw std::runtime_error(what + ": secretGroup " + std::to_string(c.group) +
                               " but the regex has only " +
                               std::to_string(c.re->NumberOfCapturingGroups()) + " groups");
    }
    c.rule = std::move(rule);
    impl_->rules.push_back(std::move(c));
  }
  for (const auto& a : rules.allowlists) impl_->global.push_back(CompileAllowlist(a, "global"));
  for (const auto& a : impl_->options.allowlists) {
    impl_->global.push_back(CompileAllowlist(a, "config"));
  }
  impl_->Compile();
}

SecretScanner::~SecretScanner() = default;

void SecretScanner::ScratchDeleter::operator()(Scratch* s) const { delete s; }

SecretScanner::ScratchPtr SecretScanner::NewScratch() const {
  hs_scratch_t* s = nullptr;
  if (impl_->proto && hs_clone_scratch(impl_->proto, &s) != HS_SUCCESS) {
    throw std::runtime_error("hyperscan: cannot clone scratch space");
  }
  return ScratchPtr(new Scratch(s));
}

void SecretScanner::ScanText(Scratch& scratch, std::string_view rel_path, std::string_view data,
                             std::vector<Finding>& out) const {
  impl_->Scan(scratch, rel_path, data, std::string_view(), 0, impl_->options.decode_base64, nullptr,
              out);
}

void SecretScanner::ScanNotebook(Scratch& scratch, std::string_view rel_path, std::string_view raw,
                                 std::vector<Finding>& out) const {
  nlohmann::json nb = nlohmann::json::parse(raw.begin(), raw.end(), nullptr, false);
  if (nb.is_discarded() || !nb.is_object() || !nb.contains("cells") || !nb["cells"].is_array()) {
    ScanText(scratch, rel_path, raw, out);
    return;
  }
  auto text_of = [](const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    std::string s;
    if (v.is_array()) {
      for (const auto& part : v) {
        if (part.is_string()) s += part.get<std::string>();
      }
    }
    return s;
  };
  // Sources and text outputs; images and other binary MIME bundles are skipped (base64 noise).
  std::string text;
  for (const auto& cell : nb["cells"]) {
    if (!cell.is_object()) continue;
    if (cell.contains("source")) text += text_of(cell["source"]) + "\n";
    if (!cell.contains("outputs") || !cell["outputs"].is_array()) continue;
    for (const auto& o : cell["outputs"]) {
      if (!o.is_object()) continue;
      if (o.contains("text")) text += text_of(o["text"]) + "\n";
      if (o.contains("traceback")) text += text_of(o["traceback"]) + "\n";
      if (o.contains("data") && o["data"].is_object()) {
        for (const auto& [mime, value] : o["data"].items()) {
          if (mime.rfind("text/", 0) == 0) text += text_of(value) + "\n";
          if (mime == "application/json") text += value.dump() + "\n";
        }
      }
    }
  }
  std::vector<Finding> found;
  impl_->Scan(scratch, rel_path, text, raw, 0, impl_->options.decode_base64, "notebook", found);
  for (auto& f : found) out.push_back(std::move(f));
}

void SecretScanner::ScanPath(std::string_view rel_path, std::vector<Finding>& out) const {
  for (const auto& r : impl_->rules) {
    if (r.re || !r.path_re) continue;
    if (!RE2::PartialMatch(re2::StringPiece(rel_path.data(), rel_path.size()), *r.path_re)) {
      continue;
    }
    bool allowed = false;
    for (const auto& a : r.allowlists) allowed = allowed || Allowed(a, rel_path, "", "", "");
    for (const auto& a : impl_->global) allowed = allowed || Allowed(a, rel_path, "", "", "");
    if (allowed) continue;
    Finding f;
    f.kind = FindingKind::kSecret;
    f.severity = r.rule.severity;
    f.rule_id = r.rule.id;
    f.title = r.rule.description;
    f.path = std::string(rel_path);
    f.line = 1;
    f.end_line = 1;
    f.redacted = "(whole file)";
    f.fingerprint = Fingerprint({r.rule.id, rel_path, ""});
    f.message = r.rule.description + " (file matched by path)";
    out.push_back(std::move(f));
  }
}

bool SecretScanner::PathAllowed(std::string_view rel_path) const {
  for (const auto& a : impl_->global) {
    if (a.paths.empty() || a.match_all) continue;
    for (const auto& re : a.paths) {
      if (RE2::PartialMatch(re2::StringPiece(rel_path.data(), rel_path.size()), *re)) return true;
    }
  }
  return false;
}

std::size_t SecretScanner::rule_count() const { return impl_->rules.size(); }
const std::vector<std::string>& SecretScanner::fallback_rules() const {
  return impl_->fallback_names;
}
const std::string& SecretScanner::source() const { return impl_->source; }
bool SecretScanner::database_from_cache() const { return impl_->cache_hit; }

}  // namespace stagehost::security_scan
