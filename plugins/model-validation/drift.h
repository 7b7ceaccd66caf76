// drift.h -- the drift statistics: PSI over reference-fixed bins, two-sample KS, chi-squared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stagehost::model_validation {

// numpy.quantile(sorted, [1/bins, ..., (bins-1)/bins]) (linear interpolation), duplicates
// removed: the inner edges of PSI's bins. Bin i holds values v with e[i-1] < v <= e[i].
// REQUIRES: `sorted` ascending, non-empty.
std::vector<double> QuantileEdges(const std::vector<double>& sorted, int bins);

// Counts of sorted values per bin of `edges` (right-closed bins, as above).
std::vector<double> BinCounts(const std::vector<double>& sorted, const std::vector<double>& edges);

// PSI = sum_i (a_i - e_i) * ln(a_i / e_i), e = reference shares, a = current shares, each share
// floored at `epsilon` so an empty bin contributes a finite amount.
double Psi(const std::vector<double>& reference_counts, const std::vector<double>& current_counts,
           double epsilon);

// Two-sample Kolmogorov-Smirnov statistic D = sup |F_ref - F_cur| (ties handled: both empirical
// CDFs step past a tied value together). REQUIRES: both sorted ascending, non-empty.
double KsStatistic(const std::vector<double>& a, const std::vector<double>& b);

// Asymptotic two-sided p-value: Q_KS((sqrt(en) + 0.12 + 0.11/sqrt(en)) * D), en = n*m/(n+m)
// (Stephens 1970; Numerical Recipes' probks). See README for how it compares with scipy.
double KsPValue(double d, std::uint64_t n, std::uint64_t m);

// The Kolmogorov distribution's survival function Q_KS(z) = 2 sum_j (-1)^(j-1) exp(-2 j^2 z^2).
double KolmogorovSurvival(double z);

struct ChiSquareResult {
  double statistic = 0;
  double p_value = 1;
  int dof = 0;
};

// Pearson's test of homogeneity on a 2 x K table (reference counts, current counts), without
// continuity correction; categories empty in both are dropped. K < 2 gives statistic 0, p 1.
ChiSquareResult ChiSquareHomogeneity(const std::vector<double>& reference_counts,
                                     const std::vector<double>& current_counts);

// Upper tail of the chi-squared distribution: Q(dof/2, x/2), the regularized upper incomplete
// gamma function.
double ChiSquareSurvival(double x, double dof);

}  // namespace stagehost::model_validation
