// versions.cc -- PEP 440 and SemVer parsing and ordering (see versions.h). The PEP 440 grammar is
// the specification's "canonical" pattern with its normalisations; ordering follows the spec's
// rules for epochs, pre/post/dev releases and local versions.
#include "versions.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>

namespace stagehost::security_scan {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> Number(std::string_view s) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Orders optional values where "absent" sorts below (-inf) or above (+inf) every present value.
template <typename T>
int CompareOptional(const std::optional<T>& a, const std::optional<T>& b, bool absent_is_max) {
  if (!a && !b) return 0;
  if (!a) return absent_is_max ? 1 : -1;
  if (!b) return absent_is_max ? -1 : 1;
  return *a < *b ? -1 : (*b < *a ? 1 : 0);
}

std::strong_ordering ToOrdering(int c) {
  return c < 0   ? std::strong_ordering::less
         : c > 0 ? std::strong_ordering::greater
                 : std::strong_ordering::equal;
}

}  // namespace

std::optional<Pep440Version> Pep440Version::Parse(std::string_view text) {
  static const RE2 kPattern(R"(v?(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*))"
                            R"((?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?)"
                            R"((?:(?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?)"
                            R"((?:[-_.]?(dev)[-_.]?([0-9]+)?)?)"
                            R"((?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?)");
  const std::string lowered = Lower(Trim(text));
  std::string epoch, release, pre_l, pre_n, post_n1, post_l, post_n2, dev_l, dev_n, local;
  if (!RE2::FullMatch(lowered, kPattern, &epoch, &release, &pre_l, &pre_n, &post_n1, &post_l,
                      &post_n2, &dev_l, &dev_n, &local)) {
    return std::nullopt;
  }
  Pep440Version v;
  if (!epoch.empty()) {
    auto e = Number(epoch);
    if (!e) return std::nullopt;
    v.epoch_ = *e;
  }
  std::size_t start = 0;
  while (start <= release.size()) {
    const std::size_t dot = release.find('.', start);
    const std::string_view part = std::string_view(release).substr(
        start, dot == std::string::npos ? std::string::npos : dot - start);
    auto n = Number(part);
    if (!n) return std::nullopt;
    v.release_.push_back(*n);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!pre_l.empty()) {
    int letter = 0;
    if (pre_l == "a" || pre_l == "alpha")
      letter = 0;
    else if (pre_l == "b" || pre_l == "beta")
      letter = 1;
    else
      letter = 2;  // c, rc, pre, preview
    v.pre_ = std::make_pair(letter, pre_n.empty() ? 0 : Number(pre_n).value_or(0));
  }
  if (!post_n1.empty()) {
    v.post_ = Number(post_n1).value_or(0);
  } else if (!post_l.empty()) {
    v.post_ = post_n2.empty() ? 0 : Number(post_n2).value_or(0);
  }
  if (!dev_l.empty()) v.dev_ = dev_n.empty() ? 0 : Number(dev_n).value_or(0);
  if (!local.empty()) {
    std::size_t s = 0;
    while (s <= local.size()) {
      const std::size_t e = local.find_first_of("-_.", s);
      const std::string part = local.substr(s, e == std::string::npos ? std::string::npos : e - s);
      if (AllDigits(part)) {
        v.local_.emplace_back(Number(part).value_or(0));
      } else {
        v.local_.emplace_back(part);
      }
      if (e == std::string::npos) break;
      s = e + 1;
    }
  }
  return v;
}

std::strong_ordering Pep440Version::operator<=>(const Pep440Version& o) const {
  if (epoch_ != o.epoch_) return epoch_ <=> o.epoch_;
  // Trailing zeros do not count: 1.0.0 == 1.0 == 1.
  auto significant = [](const std::vector<std::uint64_t>& r) {
    std::size_t n = r.size();
    while (n > 1 && r[n - 1] == 0) --n;
    return r.begin() + static_cast<std::ptrdiff_t>(n);
  };
  if (auto c = std::lexicographical_compare_three_way(release_.begin(), significant(release_),
                                                      o.release_.begin(), significant(o.release_));
      c != 0) {
    return c;
  }
  // A dev release of the final version (1.0.dev0) sorts before its pre-releases (1.0a0).
  auto pre_key = [](const Pep440Version& v) -> std::pair<int, std::pair<int, std::uint64_t>> {
    if (!v.pre_ && !v.post_ && v.dev_) return {-1, {0, 0}};
    if (!v.pre_) return {1, {0, 0}};
    return {0, *v.pre_};
  };
  const auto pa = pre_key(*this), pb = pre_key(o);
  if (pa != pb) return pa < pb ? std::strong_ordering::less : std::strong_ordering::greater;
  if (int c = CompareOptional(post_, o.post_, false); c != 0) return ToOrdering(c);
  if (int c = CompareOptional(dev_, o.dev_, true); c != 0) return ToOrdering(c);
  // Local versions: absent sorts first; numbers sort after strings; a longer local sorts after
  // its prefix.
  if (local_.empty() != o.local_.empty()) {
    return local_.empty() ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  for (std::size_t i = 0; i < std::min(local_.size(), o.local_.size()); ++i) {
    const auto& a = local_[i];
    const auto& b = o.local_[i];
    if (a.index() != b.index()) {
      return a.index() == 0 ? std::strong_ordering::greater : std::strong_ordering::less;
    }
    if (a != b) return a < b ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  return local_.size() <=> o.local_.size();
}

std::string Pep440Version::ToString() const {
  std::string s;
  if (epoch_) s += std::to_string(epoch_) + "!";
  for (std::size_t i = 0; i < release_.size(); ++i)
    s += (i ? "." : "") + std::to_string(release_[i]);
  if (pre_)
    s += std::string(pre_->first == 0   ? "a"
                     : pre_->first == 1 ? "b"
                                        : "rc") +
         std::to_string(pre_->second);
  if (post_) s += ".post" + std::to_string(*post_);
  if (dev_) s += ".dev" + std::to_string(*dev_);
  for (std::size_t i = 0; i < local_.size(); ++i) {
    s += i ? "." : "+";
    s += local_[i].index() == 0 ? std::to_string(std::get<0>(local_[i])) : std::get<1>(local_[i]);
  }
  return s;
}

std::optional<SemVer> SemVer::Parse(std::string_view text) {
  std::string_view t = Trim(text);
  if (!t.empty() && (t.front() == 'v' || t.front() == 'V' || t.front() == '=')) t.remove_prefix(1);
  if (const std::size_t plus = t.find('+'); plus != std::string_view::npos) t = t.substr(0, plus);
  std::string_view core = t, pre;
  if (const std::size_t dash = t.find('-'); dash != std::string_view::npos) {
    core = t.substr(0, dash);
    pre = t.substr(dash + 1);
    if (pre.empty()) return std::nullopt;
  }
  SemVer v;
  std::uint64_t* parts[] = {&v.major_, &v.minor_, &v.patch_};
  std::size_t i = 0, start = 0;
  while (true) {
    if (i == 3) return std::nullopt;
    const std::size_t dot = core.find('.', start);
    const std::string_view part =
        core.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!AllDigits(part) || (part.size() > 1 && part[0] == '0')) return std::nullopt;
    *parts[i++] = Number(part).value_or(0);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  std::size_t s = 0;
  while (!pre.empty() && s <= pre.size()) {
    const std::size_t dot = pre.find('.', s);
    const std::string_view id =
        pre.substr(s, dot == std::string_view::npos ? std::string_view::npos : dot - s);
    if (id.empty()) return std::nullopt;
    if (AllDigits(id)) {
      v.pre_.emplace_back(Number(id).value_or(0));
    } else {
      v.pre_.emplace_back(std::string(id));
    }
    if (dot == std::string_view::npos) break;
    s = dot + 1;
  }
  return v;
}

std::strong_ordering SemVer::operator<=>(const SemVer& o) const {
  if (major_ != o.major_) return major_ <=> o.major_;
  if (minor_ != o.minor_) return minor_ <=> o.minor_;
  if (patch_ != o.patch_) return patch_ <=> o.patch_;
  // A pre-release sorts before the release; identifiers: numbers < strings, numbers by value,
  // strings in ASCII order, a prefix before the longer list.
  if (pre_.empty() != o.pre_.empty()) {
    return pre_.empty() ? std::strong_ordering::greater : std::strong_ordering::less;
  }
  for (std::size_t i = 0; i < std::min(pre_.size(), o.pre_.size()); ++i) {
    const auto& a = pre_[i];
    const auto& b = o.pre_[i];
    if (a.index() != b.index()) {
      return a.index() == 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    }
    if (a != b) return a < b ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  return pre_.size() <=> o.pre_.size();
}

std::string SemVer::ToString() const {
  std::string s =
      std::to_string(major_) + "." + std::to_string(minor_) + "." + std::to_string(patch_);
  for (std::size_t i = 0; i < pre_.size(); ++i) {
    s += i ? "." : "-";
    s += pre_[i].index() == 0 ? std::to_string(std::get<0>(pre_[i])) : std::get<1>(pre_[i]);
  }
  return s;
}

Ecosystem ParseEcosystem(std::string_view osv_name) {
  // OSV may suffix an ecosystem with ":<release>" (e.g. "Debian:12"); PyPI and npm have none.
  const std::string_view base = osv_name.substr(0, osv_name.find(':'));
  if (base == "PyPI") return Ecosystem::kPyPI;
  if (base == "npm") return Ecosystem::kNpm;
  return Ecosystem::kOther;
}

const char* EcosystemName(Ecosystem e) {
  switch (e) {
    case Ecosystem::kPyPI:
      return "PyPI";
    case Ecosystem::kNpm:
      return "npm";
    case Ecosystem::kOther:
      return "other";
  }
  return "other";
}

std::optional<int> CompareVersions(Ecosystem e, std::string_view a, std::string_view b) {
  const bool a_zero = Trim(a) == "0", b_zero = Trim(b) == "0";
  if (a_zero || b_zero) {
    // "0" sorts below everything, but the other side must still be a version of the ecosystem.
    const std::string_view other = a_zero ? b : a;
    const bool valid =
        (a_zero && b_zero) ||
        (e == Ecosystem::kPyPI ? Pep440Version::Parse(other).has_value()
                               : e == Ecosystem::kNpm && SemVer::Parse(other).has_value());
    if (!valid) return std::nullopt;
    return a_zero == b_zero ? 0 : (a_zero ? -1 : 1);
  }
  if (e == Ecosystem::kPyPI) {
    auto va = Pep440Version::Parse(a), vb = Pep440Version::Parse(b);
    if (!va || !vb) return std::nullopt;
    const auto c = *va <=> *vb;
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (e == Ecosystem::kNpm) {
    auto va = SemVer::Parse(a), vb = SemVer::Parse(b);
    if (!va || !vb) return std::nullopt;
    const auto c = *va <=> *vb;
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return std::nullopt;
}

std::string NormalizePyPIName(std::string_view name) {
  std::string out;
  bool sep = false;
  for (unsigned char c : Trim(name)) {
    if (c == '-' || c == '_' || c == '.') {
      sep = true;
      continue;
    }
    if (sep && !out.empty()) out.push_back('-');
    sep = false;
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

}  // namespace stagehost::security_scan
