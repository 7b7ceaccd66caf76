// osv.cc -- OSV records: loading, severity, and range evaluation (see osv.h).
#include "osv.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "archive_reader.h"

namespace stagehost::security_scan {
namespace {

std::string NameKey(Ecosystem e, const std::string& name) {
  return std::string(EcosystemName(e)) + "\n" +
         (e == Ecosystem::kPyPI ? NormalizePyPIName(name) : name);
}

double RoundUp1(double x) {
  // CVSS v3.1 Roundup: smallest number with one decimal >= x, robust to float error.
  const long long i = std::llround(x * 100000);
  if (i % 10000 == 0) return static_cast<double>(i) / 100000.0;
  return (std::floor(static_cast<double>(i) / 10000) + 1) / 10.0;
}

Severity FromScore(double score) {
  if (score >= 9.0) return Severity::kCritical;
  if (score >= 7.0) return Severity::kHigh;
  if (score >= 4.0) return Severity::kMedium;
  if (score > 0) return Severity::kLow;
  return Severity::kInfo;
}

}  // namespace

double CvssV3BaseScore(const std::string& vector) {
  if (vector.rfind("CVSS:3.", 0) != 0) return -1;
  std::map<std::string, std::string> m;
  std::stringstream ss(vector);
  std::string part;
  std::getline(ss, part, '/');  // CVSS:3.x
  while (std::getline(ss, part, '/')) {
    const std::size_t colon = part.find(':');
    if (colon == std::string::npos) return -1;
    m[part.substr(0, colon)] = part.substr(colon + 1);
  }
  for (const char* k : {"AV", "AC", "PR", "UI", "S", "C", "I", "A"}) {
    if (!m.count(k)) return -1;
  }
  const bool changed = m["S"] == "C";
  const std::map<std::string, double> av{{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}};
  const std::map<std::string, double> ac{{"L", 0.77}, {"H", 0.44}};
  const std::map<std::string, double> ui{{"N", 0.85}, {"R", 0.62}};
  const std::map<std::string, double> cia{{"H", 0.56}, {"L", 0.22}, {"N", 0.0}};
  const std::map<std::string, double> pr{
      {"N", 0.85}, {"L", changed ? 0.68 : 0.62}, {"H", changed ? 0.5 : 0.27}};
  auto get = [&](const std::map<std::string, double>& table, const char* key) {
    auto it = table.find(m[key]);
    return it == table.end() ? -1.0 : it->second;
  };
  const double vav = get(av, "AV"), vac = get(ac, "AC"), vpr = get(pr, "PR"), vui = get(ui, "UI");
  const double vc = get(cia, "C"), vi = get(cia, "I"), va = get(cia, "A");
  if (vav < 0 || vac < 0 || vpr < 0 || vui < 0 || vc < 0 || vi < 0 || va < 0) return -1;
  const double iss = 1 - (1 - vc) * (1 - vi) * (1 - va);
  const double impact =
      changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploitability = 8.22 * vav * vac * vpr * vui;
  if (impact <= 0) return 0;
  return changed ? RoundUp1(std::min(1.08 * (impact + exploitability), 10.0))
                 : RoundUp1(std::min(impact + exploitability, 10.0));
}

bool IsAffected(Ecosystem ecosystem, const std::string& version, const OsvAffected& affected,
                std::string* fixed) {
  for (const auto& v : affected.versions) {
    if (v == version) return true;
    auto c = CompareVersions(ecosystem, v, version);
    if (c && *c == 0) return true;
  }
  for (const OsvRange& range : affected.ranges) {
    if (range.type != "ECOSYSTEM" && range.type != "SEMVER") continue;
    // SEMVER ranges are SemVer even for PyPI packages (the schema says so).
    const Ecosystem order = range.type == "SEMVER" ? Ecosystem::kNpm : ecosystem;
    auto cmp = [&](const std::string& a, const std::string& b) {
      return CompareVersions(order, a, b);
    };
    if (!cmp(version, "0")) continue;  // the version does not parse in this ordering
    // Events sorted by version ("0" first); at equal versions the order of the record holds.
    std::vector<OsvEvent> events;
    for (const auto& e : range.events) {
      if (e.type == OsvEvent::Type::kLimit) continue;
      if (!cmp(e.version, "0")) continue;  // unparseable bound: ignored (recorded upstream)
      events.push_back(e);
    }
    std::stable_sort(events.begin(), events.end(), [&](const OsvEvent& a, const OsvEvent& b) {
      return cmp(a.version, b.version).value_or(0) < 0;
    });
    // The OSV evaluation: walk the sorted events; the last applicable one decides.
    bool hit = false;
    for (const auto& e : events) {
      const int c = *cmp(version, e.version);
      switch (e.type) {
        case OsvEvent::Type::kIntroduced:
          if (c >= 0) hit = true;
          break;
        case OsvEvent::Type::kFixed:
          if (c >= 0) hit = false;
          break;
        case OsvEvent::Type::kLastAffected:
          if (c > 0) hit = false;
          break;
        case OsvEvent::Type::kLimit:
          break;
      }
    }
    // limit: versions at or above every limit are outside the range.
    bool limited = false, below_some_limit = false;
    for (const auto& e : range.events) {
      if (e.type != OsvEvent::Type::kLimit) continue;
      limited = true;
      auto c = cmp(version, e.version);
      if (e.version == "*" || (c && *c < 0)) below_some_limit = true;
    }
    if (limited && !below_some_limit) hit = false;
    if (!hit) continue;
    if (fixed) {
      for (const auto& e : events) {
        if (e.type == OsvEvent::Type::kFixed && *cmp(version, e.version) < 0) {
          *fixed = e.version;
          break;
        }
      }
    }
    return true;
  }
  return false;
}

void OsvDatabase::Add(const nlohmann::json& record, const std::string& source) {
  if (record.is_array()) {
    for (const auto& r : record) Add(r, source);
    return;
  }
  auto fail = [&](const std::string& what) { throw std::runtime_error(source + ": " + what); };
  if (!record.is_object()) fail("an OSV record must be a JSON object");
  if (!record.contains("id") || !record["id"].is_string()) fail("OSV record without a string id");
  OsvAdvisory a;
  a.id = record["id"].get<std::string>();
  a.source = source;
  if (record.contains("withdrawn")) return;  // withdrawn advisories never match
  a.summary = record.value("summary", std::string());
  a.details = record.value("details", std::string());
  if (record.contains("aliases") && record["aliases"].is_array()) {
    for (const auto& al : record["aliases"]) {
      if (al.is_string()) a.aliases.push_back(al.get<std::string>());
    }
  }
  // Severity: the database's own label (GitHub's LOW/MODERATE/HIGH/CRITICAL) or a CVSS v3 score.
  if (record.contains("database_specific") && record["database_specific"].is_object() &&
      record["database_specific"].contains("severity") &&
      record["database_specific"]["severity"].is_string()) {
    if (auto s = ParseSeverity(record["database_specific"]["severity"].get<std::string>())) {
      a.severity = *s;
      a.severity_known = true;
    }
  }
  if (!a.severity_known && record.contains("severity") && record["severity"].is_array()) {
    for (const auto& s : record["severity"]) {
      if (!s.is_object() || !s.contains("score") || !s["score"].is_string()) continue;
      const double score = CvssV3BaseScore(s["score"].get<std::string>());
      if (score >= 0) {
        a.severity = FromScore(score);
        a.severity_known = true;
        break;
      }
    }
  }
  if (!record.contains("affected")) return;
  if (!record["affected"].is_array()) fail(a.id + ": affected must be an array");
  for (const auto& aff : record["affected"]) {
    if (!aff.is_object() || !aff.contains("package") || !aff["package"].is_object()) continue;
    const auto& pkg = aff["package"];
    OsvAffected x;
    x.ecosystem = ParseEcosystem(pkg.value("ecosystem", std::string()));
    if (x.ecosystem == Ecosystem::kOther) continue;
    x.name = pkg.value("name", std::string());
    if (x.name.empty()) fail(a.id + ": affected package without a name");
    if (aff.contains("versions") && aff["versions"].is_array()) {
      for (const auto& v : aff["versions"]) {
        if (v.is_string()) x.versions.push_back(v.get<std::string>());
      }
    }
    if (aff.contains("ranges") && aff["ranges"].is_array()) {
      for (const auto& r : aff["ranges"]) {
        if (!r.is_object() || !r.contains("events") || !r["events"].is_array()) {
          fail(a.id + ": a range needs an events array");
        }
        OsvRange range;
        range.type = r.value("type", std::string());
        for (const auto& e : r["events"]) {
          if (!e.is_object() || e.size() != 1) fail(a.id + ": each event has exactly one key");
          // Not `*e.items().begin()`: that proxy is a temporary, and its key() a dangling ref.
          const std::string& key = e.begin().key();
          const nlohmann::json& value = e.begin().value();
          if (!value.is_string()) fail(a.id + ": event " + key + " must be a string");
          OsvEvent ev{OsvEvent::Type::kIntroduced, value.get<std::string>()};
          if (key == "introduced")
            ev.type = OsvEvent::Type::kIntroduced;
          else if (key == "fixed")
            ev.type = OsvEvent::Type::kFixed;
          else if (key == "last_affected")
            ev.type = OsvEvent::Type::kLastAffected;
          else if (key == "limit")
            ev.type = OsvEvent::Type::kLimit;
          else
            fail(a.id + ": unknown event \"" + key + "\"");
          range.events.push_back(ev);
        }
        x.ranges.push_back(std::move(range));
      }
    }
    a.affected.push_back(std::move(x));
  }
  const std::size_t idx = advisories_.size();
  for (const auto& aff : a.affected) index_.emplace(NameKey(aff.ecosystem, aff.name), idx);
  advisories_.push_back(std::move(a));
}

OsvDatabase OsvDatabase::Load(const std::string& path) {
  OsvDatabase db;
  namespace fs = std::filesystem;
  auto add_text = [&](const std::string& text, const std::string& source) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw std::runtime_error(source + ": invalid JSON: " + e.what());
    }
    db.Add(j, source);
  };
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
    }
    if (ec) throw std::runtime_error(path + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      if (!in) throw std::runtime_error(f.string() + ": cannot read");
      add_text(buf.str(), f.string());
    }
    return db;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(path + ": cannot open the OSV database (a directory or a .zip)");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  if (!LooksLikeArchive(data)) {
    add_text(data, path);  // a single JSON file (one record or an array)
    return db;
  }
  ForEachArchiveEntry(
      data, std::size_t{64} << 20,
      [&](const std::string& name, std::string_view entry, bool truncated) {
        if (name.size() < 5 || name.substr(name.size() - 5) != ".json") return;
        if (truncated) throw std::runtime_error(path + ":" + name + ": record larger than 64 MiB");
        add_text(std::string(entry), path + ":" + name);
      });
  return db;
}

std::vector<OsvDatabase::Match> OsvDatabase::Lookup(Ecosystem ecosystem, const std::string& name,
                                                    const std::string& version) const {
  std::vector<Match> out;
  auto [lo, hi] = index_.equal_range(NameKey(ecosystem, name));
  std::vector<std::size_t> seen;
  for (auto it = lo; it != hi; ++it) {
    if (std::find(seen.begin(), seen.end(), it->second) != seen.end()) continue;
    seen.push_back(it->second);
    const OsvAdvisory& a = advisories_[it->second];
    const std::string key = NameKey(ecosystem, name);
    for (const auto& aff : a.affected) {
      if (NameKey(aff.ecosystem, aff.name) != key) continue;
      std::string fixed;
      if (IsAffected(ecosystem, version, aff, &fixed)) {
        out.push_back({&a, fixed});
        break;
      }
    }
  }
  return out;
}

}  // namespace stagehost::security_scan
