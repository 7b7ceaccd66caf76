// drift_run.cc -- reads the reference and current feature tables and turns drift tests into checks.
#include <stagehost/stage.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "drift.h"
#include "ranking.h"
#include "result.h"
#include "table_reader.h"

namespace stagehost::model_validation {
namespace {

using sdk::BadConfig;

struct FeatureData {
  bool categorical = false;
  std::vector<double> values;                      // numeric
  std::unordered_map<std::string, double> counts;  // categorical
};

// Reads `features` of one table; numeric values are kept (8 bytes per row and feature) for KS
// and the quantile bins, categories are counted.
std::vector<FeatureData> ReadTable(const DriftConfig& d, const std::string& workspace,
                                   const std::string& rel, const std::vector<std::string>& features,
                                   const std::set<std::string>& categorical, const RunHooks& hooks,
                                   const char* what,
                                   const std::vector<std::pair<std::string, std::string>>& filter) {
  auto reader = TableReader::Open(ResolvePath(workspace, rel), rel, d.format, d.delimiter);
  std::vector<std::size_t> idx;
  std::vector<FeatureData> data(features.size());
  for (std::size_t f = 0; f < features.size(); ++f) {
    idx.push_back(
        reader->ColumnIndex(features[f], std::string("drift feature, in the ") + what + " table"));
    data[f].categorical = categorical.count(features[f]) > 0;
  }
  std::vector<std::pair<std::size_t, std::string>> where;
  for (const auto& [col, val] : filter) {
    where.emplace_back(reader->ColumnIndex(col, std::string(what) + "_filter"), val);
  }
  std::uint64_t kept = 0;
  while (reader->Next()) {
    if ((reader->rows() & 0xFFFF) == 0) hooks.check_cancelled();
    bool match = true;
    for (const auto& [i, val] : where) match = match && reader->Field(i) == val;
    if (!match) continue;
    ++kept;
    for (std::size_t f = 0; f < features.size(); ++f) {
      if (data[f].categorical) {
        data[f].counts[std::string(reader->Field(idx[f]))] += 1;
      } else {
        double v;
        std::string_view text = reader->Field(idx[f]);
        if (!ParseDouble(text, v)) {
          throw BadConfig(reader->Where(idx[f]) + ": \"" + std::string(text.substr(0, 40)) +
                          "\" is not a number (list the feature under drift.categorical if it "
                          "is a category)");
        }
        if (!std::isfinite(v)) {
          throw BadConfig(reader->Where(idx[f]) + ": not a finite number");
        }
        data[f].values.push_back(v);
      }
    }
  }
  if (kept == 0) {
    throw BadConfig(rel + ": no data rows" +
                    (filter.empty() ? "" : std::string(" match ") + what + "_filter"));
  }
  for (auto& f : data) RadixSortDoubles(f.values);
  return data;
}

Check DriftCheck(const std::string& feature, const std::string& test, double value, double limit,
                 bool drifted, const std::string& facts) {
  Check c;
  c.kind = "drift";
  c.subject = feature;
  c.value = value;
  c.limit = limit;
  c.name = "drift " + test + " " + feature;
  c.status = drifted ? Check::Status::kFailed : Check::Status::kPassed;
  c.message = feature + ": " + facts + (drifted ? " (drift)" : " (no drift)");
  return c;
}

}  // namespace

void RunDrift(const DriftConfig& d, const std::string& workspace, ValidationResult& r,
              const RunHooks& hooks) {
  // Which features: the configured list, or every reference column not excluded.
  std::vector<std::string> features = d.features;
  if (features.empty()) {
    auto reader =
        TableReader::Open(ResolvePath(workspace, d.reference), d.reference, d.format, d.delimiter);
    for (const std::string& c : reader->columns()) {
      if (std::find(d.exclude.begin(), d.exclude.end(), c) == d.exclude.end()) {
        features.push_back(c);
      }
    }
  }
  std::vector<std::string> kept;
  for (const auto& f : features) {
    auto o = d.overrides.find(f);
    if (o == d.overrides.end() || !o->second.skip) kept.push_back(f);
  }
  features = kept;
  for (const auto& [name, o] : d.overrides) {
    if (std::find(features.begin(), features.end(), name) == features.end() && !o.skip) {
      throw BadConfig("drift.overrides." + name + ": not a tested feature");
    }
  }
  const std::set<std::string> categorical(d.categorical.begin(), d.categorical.end());
  auto test_on = [&](const char* t) {
    return std::find(d.tests.begin(), d.tests.end(), t) != d.tests.end();
  };

  hooks.progress(700, "drift: reading " + d.reference);
  std::vector<FeatureData> ref = ReadTable(d, workspace, d.reference, features, categorical, hooks,
                                           "reference", d.reference_filter);
  hooks.progress(800, "drift: reading " + d.current);
  std::vector<FeatureData> cur =
      ReadTable(d, workspace, d.current, features, categorical, hooks, "current", d.current_filter);

  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["reference"] = d.reference;
  out["current"] = d.current;
  nlohmann::ordered_json per_feature = nlohmann::ordered_json::object();
  int drifted_features = 0;
  for (std::size_t f = 0; f < features.size(); ++f) {
    const std::string& name = features[f];
    const DriftOverride ov = d.overrides.count(name) ? d.overrides.at(name) : DriftOverride{};
    nlohmann::ordered_json fr = nlohmann::ordered_json::object();
    bool drifted = false;
    std::vector<double> ref_counts, cur_counts;
    nlohmann::ordered_json bins = nlohmann::ordered_json::array();
    if (ref[f].categorical) {
      fr["type"] = "categorical";
      // Categories in the order of the reference's counts (largest first), then new ones.
      std::map<std::string, std::pair<double, double>> all;
      for (const auto& [k, n] : ref[f].counts) all[k].first = n;
      for (const auto& [k, n] : cur[f].counts) all[k].second = n;
      for (const auto& [k, n] : all) {
        ref_counts.push_back(n.first);
        cur_counts.push_back(n.second);
        bins.push_back({{"category", k}, {"reference", n.first}, {"current", n.second}});
      }
    } else {
      fr["type"] = "numeric";
      const std::vector<double> edges = QuantileEdges(ref[f].values, d.bins);
      ref_counts = BinCounts(ref[f].values, edges);
      cur_counts = BinCounts(cur[f].values, edges);
      for (std::size_t b = 0; b < ref_counts.size(); ++b) {
        nlohmann::ordered_json bin = {{"reference", ref_counts[b]}, {"current", cur_counts[b]}};
        if (b > 0) bin["lower_exclusive"] = edges[b - 1];
        if (b < edges.size()) bin["upper_inclusive"] = edges[b];
        bins.push_back(bin);
      }
    }
    if (test_on("psi")) {
      const double psi = Psi(ref_counts, cur_counts, d.epsilon);
      const double limit = ov.psi_threshold.value_or(d.psi_threshold);
      const bool bad = psi > limit;
      drifted |= bad;
      fr["psi"] = {{"value", psi}, {"threshold", limit}, {"drift", bad}, {"bins", bins}};
      r.checks.push_back(
          DriftCheck(name, "psi", psi, limit, bad,
                     "PSI " + FormatNumber(psi) + (bad ? " > " : " <= ") + FormatNumber(limit)));
    }
    if (!ref[f].categorical && test_on("ks")) {
      const double stat = KsStatistic(ref[f].values, cur[f].values);
      const double p = KsPValue(stat, ref[f].values.size(), cur[f].values.size());
      const double limit = ov.ks_p_value.value_or(d.ks_p_value);
      const std::optional<double> max_stat =
          ov.ks_max_statistic ? ov.ks_max_statistic : d.ks_max_statistic;
      const bool bad = p < limit || (max_stat && stat > *max_stat);
      drifted |= bad;
      fr["ks"] = {
          {"statistic", stat}, {"p_value", p}, {"p_value_threshold", limit}, {"drift", bad}};
      if (max_stat) fr["ks"]["max_statistic"] = *max_stat;
      std::string facts = "KS D = " + FormatNumber(stat) + ", p = " + FormatNumber(p) +
                          (p < limit ? " < " : " >= ") + FormatNumber(limit);
      if (max_stat) facts += ", D limit " + FormatNumber(*max_stat);
      r.checks.push_back(DriftCheck(name, "ks", p, limit, bad, facts));
    }
    if (ref[f].categorical && test_on("chi2")) {
      const ChiSquareResult chi = ChiSquareHomogeneity(ref_counts, cur_counts);
      const double limit = ov.chi2_p_value.value_or(d.chi2_p_value);
      const bool bad = chi.p_value < limit;
      drifted |= bad;
      fr["chi2"] = {{"statistic", chi.statistic},
                    {"dof", chi.dof},
                    {"p_value", chi.p_value},
                    {"p_value_threshold", limit},
                    {"drift", bad}};
      r.checks.push_back(DriftCheck(
          name, "chi2", chi.p_value, limit, bad,
          "chi2 = " + FormatNumber(chi.statistic) + " (dof " + std::to_string(chi.dof) + "), p = " +
              FormatNumber(chi.p_value) + (bad ? " < " : " >= ") + FormatNumber(limit)));
    }
    fr["drift"] = drifted;
    drifted_features += drifted ? 1 : 0;
    per_feature[name] = fr;
  }
  const double share = features.empty() ? 0.0
                                        : static_cast<double>(drifted_features) /
                                              static_cast<double>(features.size());
  out["features"] = per_feature;
  out["drifted_features"] = drifted_features;
  out["drifted_share"] = share;
  if (d.max_drifted_share) {
    Check c;
    c.kind = "drift";
    c.subject = "drifted_share";
    c.name = "drift share of drifted features <= " + FormatNumber(*d.max_drifted_share);
    c.value = share;
    c.limit = d.max_drifted_share;
    const bool bad = share > *d.max_drifted_share;
    c.status = bad ? Check::Status::kFailed : Check::Status::kPassed;
    c.message = std::to_string(drifted_features) + " of " + std::to_string(features.size()) +
                " features drifted (" + FormatNumber(share) + (bad ? " > " : " <= ") +
                FormatNumber(*d.max_drifted_share) + ")";
    r.checks.push_back(std::move(c));
  }
  r.drift = out;
}

}  // namespace stagehost::model_validation
