// ranking.cc -- sorting kept scores and the threshold walk behind ROC AUC and average precision.
#include "ranking.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

namespace stagehost::model_validation {
namespace {

// Maps a double to an unsigned key with the same order (negatives flipped entirely).
inline std::uint64_t Key(double d) {
  std::uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return (u >> 63) ? ~u : (u | (std::uint64_t{1} << 63));
}
inline double FromKey(std::uint64_t k) {
  std::uint64_t u = (k >> 63) ? (k & ~(std::uint64_t{1} << 63)) : ~k;
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

}  // namespace

void RadixSortDoubles(std::vector<double>& v) {
  const std::size_t n = v.size();
  if (n < 4096) {
    std::sort(v.begin(), v.end());
    return;
  }
  // -0.0 and 0.0 compare equal but have different bits: make them one key.
  std::vector<std::uint64_t> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) a[i] = Key(v[i] == 0 ? 0.0 : v[i]);
  constexpr int kBits = 16;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  std::vector<std::size_t> count(kBuckets);
  for (int pass = 0; pass < 64 / kBits; ++pass) {
    const int shift = pass * kBits;
    std::fill(count.begin(), count.end(), 0);
    for (std::size_t i = 0; i < n; ++i) ++count[(a[i] >> shift) & (kBuckets - 1)];
    // A pass where every key has the same digit changes nothing: skip it.
    if (count[(a[0] >> shift) & (kBuckets - 1)] == n) continue;
    std::size_t sum = 0;
    for (auto& c : count) {
      std::size_t t = c;
      c = sum;
      sum += t;
    }
    for (std::size_t i = 0; i < n; ++i) b[count[(a[i] >> shift) & (kBuckets - 1)]++] = a[i];
    a.swap(b);
  }
  for (std::size_t i = 0; i < n; ++i) v[i] = FromKey(a[i]);
}

void ScoreBag::Append(ScoreBag&& other) {
  plain_.insert(plain_.end(), other.plain_.begin(), other.plain_.end());
  weighted_.insert(weighted_.end(), other.weighted_.begin(), other.weighted_.end());
  other.plain_ = {};
  other.weighted_ = {};
  sorted_ = false;
}

void ScoreBag::Sort() {
  if (sorted_) return;
  RadixSortDoubles(plain_);
  std::sort(weighted_.begin(), weighted_.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  sorted_ = true;
}

double ScoreBag::TotalWeight() const {
  double w = static_cast<double>(plain_.size());
  for (const auto& [s, wt] : weighted_) w += wt;
  return w;
}

namespace {

// A cursor walking a sorted bag from its highest score down; a bag holds either plain or weighted
// scores (never both in one run).
struct Cursor {
  explicit Cursor(const ScoreBag& b) : bag(b), i(b.plain_.size()), j(b.weighted_.size()) {}
  bool done() const { return i == 0 && j == 0; }
  double top() const {
    double t = -std::numeric_limits<double>::infinity();
    if (i > 0) t = bag.plain_[i - 1];
    if (j > 0) t = std::max(t, bag.weighted_[j - 1].first);
    return t;
  }
  // Removes every score equal to t and returns their total weight.
  double Take(double t) {
    double w = 0;
    while (i > 0 && bag.plain_[i - 1] == t) {
      w += 1;
      --i;
    }
    while (j > 0 && bag.weighted_[j - 1].first == t) {
      w += bag.weighted_[j - 1].second;
      --j;
    }
    return w;
  }
  const ScoreBag& bag;
  std::size_t i, j;
};

}  // namespace

RankingResult ComputeRanking(const ScoreBag& positives, const ScoreBag& negatives) {
  const double p_total = positives.TotalWeight();
  const double n_total = negatives.TotalWeight();
  Cursor pos(positives), neg(negatives);
  double tp = 0, fp = 0, area = 0, ap = 0;
  while (!pos.done() || !neg.done()) {
    double t = std::max(pos.top(), neg.top());
    double tp_add = pos.Take(t);
    double fp_add = neg.Take(t);
    area += fp_add * (tp + tp_add / 2);  // trapezoid, in weight units
    tp += tp_add;
    fp += fp_add;
    if (tp_add != 0) ap += tp_add * (tp / (tp + fp));
  }
  return {area / (p_total * n_total), ap / p_total};
}

}  // namespace stagehost::model_validation
