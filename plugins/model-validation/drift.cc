// drift.cc -- drift statistics and the special functions behind their p-values.
#include "drift.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace stagehost::model_validation {

std::vector<double> QuantileEdges(const std::vector<double>& sorted, int bins) {
  std::vector<double> edges;
  const double n = static_cast<double>(sorted.size());
  for (int i = 1; i < bins; ++i) {
    const double q = static_cast<double>(i) / bins;
    const double pos = (n - 1) * q;
    const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
    const double t = pos - lo;
    double v = sorted[lo];
    if (lo + 1 < sorted.size()) {
      // numpy's _lerp: a + t*(b-a) below t = 0.5, b - (1-t)*(b-a) from it on.
      const double a = sorted[lo], b = sorted[lo + 1], diff = b - a;
      v = t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }
    if (edges.empty() || v != edges.back()) edges.push_back(v);
  }
  return edges;
}

std::vector<double> BinCounts(const std::vector<double>& sorted, const std::vector<double>& edges) {
  std::vector<double> counts(edges.size() + 1, 0.0);
  std::size_t start = 0;
  for (std::size_t i = 0; i < edges.size(); ++i) {
    // Values <= edges[i] that are not in an earlier bin.
    std::size_t stop =
        std::upper_bound(sorted.begin() + start, sorted.end(), edges[i]) - sorted.begin();
    counts[i] = static_cast<double>(stop - start);
    start = stop;
  }
  counts.back() = static_cast<double>(sorted.size() - start);
  return counts;
}

double Psi(const std::vector<double>& reference_counts, const std::vector<double>& current_counts,
           double epsilon) {
  double ref_total = 0, cur_total = 0;
  for (double c : reference_counts) ref_total += c;
  for (double c : current_counts) cur_total += c;
  double psi = 0;
  for (std::size_t i = 0; i < reference_counts.size(); ++i) {
    const double e = std::max(reference_counts[i] / ref_total, epsilon);
    const double a = std::max(current_counts[i] / cur_total, epsilon);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

double KsStatistic(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size()), m = static_cast<double>(b.size());
  std::size_t i = 0, j = 0;
  double d = 0;
  while (i < a.size() && j < b.size()) {
    const double t = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == t) ++i;
    while (j < b.size() && b[j] == t) ++j;
    d = std::max(d, std::fabs(i / n - j / m));
  }
  return d;
}

double KolmogorovSurvival(double z) {
  if (z <= 0) return 1.0;
  if (z < 1.18) {
    // Q = 1 - sqrt(2 pi)/z * sum_j exp(-(2j-1)^2 pi^2 / (8 z^2)); converges fast for small z.
    const double y = std::exp(-std::numbers::pi * std::numbers::pi / (8 * z * z));
    const double y8 = std::pow(y, 8);
    double term = y, sum = 0, mult = y8;
    for (int j = 1; j <= 20 && term > 1e-300; ++j) {
      sum += term;
      term *= mult;  // y^((2j+1)^2) = y^((2j-1)^2) * y^(8j)
      mult *= y8;
    }
    return 1.0 - std::sqrt(2 * std::numbers::pi) / z * sum;
  }
  const double x = std::exp(-2 * z * z);
  double sum = 0;
  for (int j = 1; j <= 100; ++j) {
    const double term = std::pow(x, j * j);
    sum += (j % 2 ? term : -term);
    if (term < 1e-300) break;
  }
  return std::clamp(2 * sum, 0.0, 1.0);
}

double KsPValue(double d, std::uint64_t n, std::uint64_t m) {
  const double en = static_cast<double>(n) * m / (static_cast<double>(n) + m);
  const double s = std::sqrt(en);
  return KolmogorovSurvival((s + 0.12 + 0.11 / s) * d);
}

namespace {

// Regularized lower incomplete gamma P(a, x) by its series (x < a + 1).
double GammaSeries(double a, double x) {
  double ap = a, sum = 1.0 / a, del = sum;
  for (int n = 0; n < 100000; ++n) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (std::fabs(del) < std::fabs(sum) * 1e-17) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Regularized upper incomplete gamma Q(a, x) by Lentz's continued fraction (x >= a + 1).
double GammaContinuedFraction(double a, double x) {
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-17) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

double ChiSquareSurvival(double x, double dof) {
  if (x <= 0) return 1.0;
  const double a = dof / 2, half = x / 2;
  return half < a + 1 ? 1.0 - GammaSeries(a, half) : GammaContinuedFraction(a, half);
}

ChiSquareResult ChiSquareHomogeneity(const std::vector<double>& reference_counts,
                                     const std::vector<double>& current_counts) {
  double r_total = 0, c_total = 0;
  std::vector<std::size_t> used;
  for (std::size_t i = 0; i < reference_counts.size(); ++i) {
    if (reference_counts[i] + current_counts[i] > 0) used.push_back(i);
    r_total += reference_counts[i];
    c_total += current_counts[i];
  }
  ChiSquareResult r;
  if (used.size() < 2) return r;
  const double total = r_total + c_total;
  double stat = 0;
  for (std::size_t i : used) {
    const double col = reference_counts[i] + current_counts[i];
    const double er = r_total * col / total, ec = c_total * col / total;
    stat += (reference_counts[i] - er) * (reference_counts[i] - er) / er;
    stat += (current_counts[i] - ec) * (current_counts[i] - ec) / ec;
  }
  r.statistic = stat;
  r.dof = static_cast<int>(used.size()) - 1;
  r.p_value = ChiSquareSurvival(stat, r.dof);
  return r;
}

}  // namespace stagehost::model_validation
