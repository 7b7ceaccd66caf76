// osv.h -- an offline OSV advisory database (a directory of OSV JSON files, or a zip of them) and
// the range matching of the OSV schema: introduced / fixed / last_affected / limit events and
// explicit version lists, ordered per ecosystem (PEP 440 for PyPI, SemVer for npm).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "findings.h"
#include "versions.h"

namespace stagehost::security_scan {

struct OsvEvent {
  enum class Type { kIntroduced, kFixed, kLastAffected, kLimit } type;
  std::string version;
};

struct OsvRange {
  std::string type;  // SEMVER, ECOSYSTEM, GIT (GIT ranges are commits: never matched here)
  std::vector<OsvEvent> events;
};

struct OsvAffected {
  Ecosystem ecosystem = Ecosystem::kOther;
  std::string name;  // normalised (PEP 503 for PyPI)
  std::vector<OsvRange> ranges;
  std::vector<std::string> versions;
};

struct OsvAdvisory {
  std::string id, summary, details;
  std::vector<std::string> aliases;
  Severity severity = Severity::kMedium;
  bool severity_known = false;
  std::vector<OsvAffected> affected;
  std::string source;  // file it came from
};

// Whether `version` is affected per one `affected[]` entry. `fixed` receives the lowest fixed
// version above `version` when one is known. Versions that do not parse in the ecosystem never
// match a range (they are reported by the caller), but can still match `versions[]` exactly.
bool IsAffected(Ecosystem ecosystem, const std::string& version, const OsvAffected& affected,
                std::string* fixed);

// CVSS v3.x base score of a vector string ("CVSS:3.1/AV:N/AC:L/..."), or -1 if it is not one.
double CvssV3BaseScore(const std::string& vector);

class OsvDatabase {
 public:
  // A directory (every *.json below it) or a .zip file. Throws std::runtime_error naming the
  // file for unreadable or malformed records.
  static OsvDatabase Load(const std::string& path);
  // Adds one OSV record (or an array of records). Throws std::runtime_error on a malformed one.
  void Add(const nlohmann::json& record, const std::string& source);

  struct Match {
    const OsvAdvisory* advisory;
    std::string fixed;
  };
  std::vector<Match> Lookup(Ecosystem ecosystem, const std::string& name,
                            const std::string& version) const;
  std::size_t size() const { return advisories_.size(); }

 private:
  std::vector<OsvAdvisory> advisories_;
  std::multimap<std::string, std::size_t> index_;  // ecosystem + '\n' + normalised name
};

}  // namespace stagehost::security_scan
