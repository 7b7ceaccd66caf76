// versions.h -- version ordering per ecosystem: PEP 440 (PyPI) and Semantic Versioning 2.0 (npm).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace stagehost::security_scan {

// A parsed PEP 440 version, normalised (1.0.0 == 1.0, 1.0-1 == 1.0.post1, 1.0ALPHA == 1.0a0).
class Pep440Version {
 public:
  // nullopt for strings PEP 440 does not accept (after normalisation).
  static std::optional<Pep440Version> Parse(std::string_view text);
  std::strong_ordering operator<=>(const Pep440Version& other) const;
  bool operator==(const Pep440Version& other) const { return (*this <=> other) == 0; }
  std::string ToString() const;

 private:
  std::uint64_t epoch_ = 0;
  std::vector<std::uint64_t> release_;
  // Pre-release: 0 a, 1 b, 2 rc; nullopt without one.
  std::optional<std::pair<int, std::uint64_t>> pre_;
  std::optional<std::uint64_t> post_;
  std::optional<std::uint64_t> dev_;
  std::vector<std::variant<std::uint64_t, std::string>> local_;
};

// A parsed semantic version; leading "v" and missing minor/patch are tolerated (as npm does for
// ranges), build metadata is ignored for ordering.
class SemVer {
 public:
  static std::optional<SemVer> Parse(std::string_view text);
  std::strong_ordering operator<=>(const SemVer& other) const;
  bool operator==(const SemVer& other) const { return (*this <=> other) == 0; }
  std::string ToString() const;

 private:
  std::uint64_t major_ = 0, minor_ = 0, patch_ = 0;
  std::vector<std::variant<std::uint64_t, std::string>> pre_;
};

enum class Ecosystem { kPyPI, kNpm, kOther };
Ecosystem ParseEcosystem(std::string_view osv_name);
const char* EcosystemName(Ecosystem e);

// Compares two versions of one ecosystem: <0, 0, >0; nullopt when either does not parse.
// "0" is the smallest version of every ecosystem (OSV's introduced: "0").
std::optional<int> CompareVersions(Ecosystem e, std::string_view a, std::string_view b);

// PEP 503 name normalisation: lower case, runs of -_. become one '-'.
std::string NormalizePyPIName(std::string_view name);

}  // namespace stagehost::security_scan
