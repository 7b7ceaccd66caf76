// drift_test.cc -- PSI, KS and chi-squared against numpy/scipy, on tables with and without shift.
#include "drift.h"

#include <cstdlib>
#include <random>

#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::model_validation::testing {
namespace {

// Writes reference.csv (x ~ N(0,1), c in {a,b,c}) and current.csv, shifted when asked.
void WriteTables(const std::string& dir, bool shift) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> n(0, 1);
  std::string ref = "x,c\n", cur = "x,c\n";
  const char* cats = "abc";
  for (int i = 0; i < 2000; ++i) ref += std::to_string(n(rng)) + "," + cats[i % 3] + "\n";
  for (int i = 0; i < 1500; ++i) {
    const double x = n(rng) + (shift ? 0.8 : 0.0);
    const char c = shift ? (i % 2 ? 'a' : cats[i % 3]) : cats[(i + 1) % 3];
    cur += std::to_string(x) + "," + c + "\n";
  }
  WriteText(dir + "/reference.csv", ref);
  WriteText(dir + "/current.csv", cur);
}

const char* kDriftConfig = R"({"predictions": {"path": "p.csv"},
  "drift": {"reference": "reference.csv", "current": "current.csv", "categorical": ["c"]}})";

void WritePredictions(const std::string& dir) {
  WriteText(dir + "/p.csv", "label,prediction\na,a\nb,b\na,b\n");
}

TEST(Drift, NoShiftPasses) {
  stagehost::testutil::TempDir dir;
  WriteTables(dir.path(), false);
  WritePredictions(dir.path());
  ValidationResult r = RunJson(dir.path(), kDriftConfig);
  EXPECT_EQ(r.failed(), 0) << r.drift.dump(1);
  EXPECT_EQ(r.drift["drifted_features"], 0);
  EXPECT_LT(r.drift["features"]["x"]["psi"]["value"].get<double>(), 0.1);
}

TEST(Drift, KnownShiftFailsEveryTest) {
  stagehost::testutil::TempDir dir;
  WriteTables(dir.path(), true);
  WritePredictions(dir.path());
  ValidationResult r = RunJson(dir.path(), kDriftConfig);
  EXPECT_EQ(r.drift["drifted_features"], 2);
  int failed_drift = 0;
  for (const Check& c : r.checks)
    failed_drift += c.kind == "drift" && c.status == Check::Status::kFailed;
  EXPECT_EQ(failed_drift, 4);  // psi x, ks x, psi c, chi2 c
  EXPECT_GT(r.drift["features"]["x"]["ks"]["statistic"].get<double>(), 0.15);
}

// Statistic values against numpy / scipy on the shifted tables.
TEST(Drift, MatchesScipy) {
  stagehost::testutil::TempDir dir;
  WriteTables(dir.path(), true);
  WritePredictions(dir.path());
  const std::string script = dir.path() + "/oracle.py";
  WriteText(script, R"PY(
import json, sys, numpy as np, pandas as pd
from scipy import stats
d = sys.argv[1]
r = pd.read_csv(d + "/reference.csv"); c = pd.read_csv(d + "/current.csv")
x, y = np.sort(r.x.values), np.sort(c.x.values)
edges = np.unique(np.quantile(x, np.arange(1, 10) / 10))
def counts(v): return np.bincount(np.searchsorted(edges, v, side="left"), minlength=len(edges) + 1)
def psi(e, a):
    e = np.maximum(e / e.sum(), 1e-4); a = np.maximum(a / a.sum(), 1e-4)
    return float(((a - e) * np.log(a / e)).sum())
ks = stats.ks_2samp(x, y, method="asymp")
en = len(x) * len(y) / (len(x) + len(y))
p_stephens = stats.kstwobign.sf((np.sqrt(en) + 0.12 + 0.11 / np.sqrt(en)) * ks.statistic)
cats = sorted(set(r.c) | set(c.c))
rc = np.array([(r.c == k).sum() for k in cats], float); cc = np.array([(c.c == k).sum() for k in cats], float)
chi = stats.chi2_contingency(np.array([rc, cc]), correction=False)
json.dump({"psi_x": psi(counts(x), counts(y)), "ks_d": float(ks.statistic), "ks_p_scipy": float(ks.pvalue),
           "ks_p": float(p_stephens), "psi_c": psi(rc, cc), "chi2": float(chi[0]), "chi2_p": float(chi[1])},
          open(d + "/expected.json", "w"))
)PY");
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + dir.path()).c_str()), 0);
  const nlohmann::json e = nlohmann::json::parse(ReadText(dir.path() + "/expected.json"));
  ValidationResult r = RunJson(dir.path(), kDriftConfig);
  const auto& f = r.drift["features"];
  EXPECT_TRUE(Near("psi x", f["x"]["psi"]["value"], e["psi_x"]));
  EXPECT_TRUE(Near("ks D", f["x"]["ks"]["statistic"], e["ks_d"]));
  EXPECT_TRUE(Near("ks p (Stephens)", f["x"]["ks"]["p_value"], e["ks_p"], 1e-6));
  // Against scipy's asymptotic p (kstwo.sf at round(en)): the same verdict at any usual level;
  // here both are astronomically small.
  EXPECT_LT(f["x"]["ks"]["p_value"].get<double>(), 1e-60);
  EXPECT_LT(e["ks_p_scipy"].get<double>(), 1e-60);
  EXPECT_TRUE(Near("psi c", f["c"]["psi"]["value"], e["psi_c"]));
  EXPECT_TRUE(Near("chi2", f["c"]["chi2"]["statistic"], e["chi2"]));
  EXPECT_TRUE(Near("chi2 p", f["c"]["chi2"]["p_value"], e["chi2_p"], 1e-7));
}

TEST(Drift, SpecialFunctions) {
  // Reference values from scipy.stats: kstwobign.sf and chi2.sf.
  EXPECT_TRUE(Near("Q_KS(0.5)", KolmogorovSurvival(0.5), 0.9639452436648751, 1e-10));
  EXPECT_TRUE(Near("Q_KS(1.0)", KolmogorovSurvival(1.0), 0.26999967167735456, 1e-10));
  EXPECT_TRUE(Near("Q_KS(2.0)", KolmogorovSurvival(2.0), 0.0006709252557796953, 1e-10));
  EXPECT_TRUE(Near("chi2.sf(3, 2)", ChiSquareSurvival(3, 2), 0.22313016014842982, 1e-12));
  EXPECT_TRUE(Near("chi2.sf(50, 10)", ChiSquareSurvival(50, 10), 2.669083424904495e-07, 1e-9));
}

}  // namespace
}  // namespace stagehost::model_validation::testing
