// classification.cc -- the classification metrics, each written to match scikit-learn 1.2's code.
#include "classification.h"

#include <stagehost/stage.h>

#include <algorithm>
#include <cmath>

#include "table_reader.h"

namespace stagehost::model_validation {
namespace {

using Probabilities = ClassificationOptions::Probabilities;

// sklearn's _prf_divide with zero_division="warn": 0 where the denominator is 0.
double Divide(double num, double den) { return den == 0 ? 0.0 : num / den; }

// sklearn's F-beta with beta = 1: 2PR / (P + R), 0 when P + R == 0.
double F1(double p, double r) {
  double den = p + r;
  return den == 0 ? 0.0 : 2 * p * r / den;
}

}  // namespace

std::vector<int> SortedClassOrder(const std::vector<std::string>& names) {
  std::vector<int> order(names.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::vector<double> values(names.size());
  bool numeric = true;
  for (std::size_t i = 0; i < names.size() && numeric; ++i) {
    numeric = ParseDouble(names[i], values[i]);
  }
  if (numeric) {
    std::sort(order.begin(), order.end(), [&](int a, int b) { return values[a] < values[b]; });
  } else {
    std::sort(order.begin(), order.end(), [&](int a, int b) { return names[a] < names[b]; });
  }
  return order;
}

ClassificationAccumulator::ClassificationAccumulator(const ClassificationOptions& options)
    : opt_(options) {
  const int bins = std::max(1, opt_.ece_bins);
  // numpy.linspace(0, 1, bins + 1): edge i is i * (1 / bins); calibration_curve puts p in the bin
  // searchsorted(inner_edges, p) (left side), so a p on an edge belongs to the lower bin.
  const double step = 1.0 / bins;
  for (int i = 1; i < bins; ++i) inner_edges_.push_back(i * step);
  bin_weight_.assign(bins, 0);
  bin_confidence_.assign(bins, 0);
  bin_correct_.assign(bins, 0);
  bin_class_weight_.assign(bins, {});

  if (opt_.probabilities == Probabilities::kPerClass) {
    for (const std::string& c : opt_.probability_classes) {
      if (ids_.count(c)) throw sdk::BadConfig("probability_columns: class \"" + c + "\" twice");
      ClassId(c);
    }
    const std::size_t k = opt_.probability_classes.size();
    if (k < 2) throw sdk::BadConfig("probability_columns: need at least two classes");
    if (k == 2) {
      binary_probs_ = true;
      score_columns_ = 1;
      if (opt_.positive_label) {
        auto it = ids_.find(*opt_.positive_label);
        if (it == ids_.end()) {
          throw sdk::BadConfig("positive_label \"" + *opt_.positive_label +
                               "\" is not a class of probability_columns");
        }
        positive_column_ = it->second;
      } else {
        positive_column_ = SortedClassOrder(names_)[1];
      }
    } else {
      score_columns_ = k;
    }
  } else if (opt_.probabilities == Probabilities::kSingle) {
    binary_probs_ = true;
    score_columns_ = 1;
  }
  Grow(names_.size());  // the classes registered above now get their score columns
}

int ClassificationAccumulator::ClassId(const std::string& name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  if (names_.size() >= opt_.max_classes) return -1;
  int id = static_cast<int>(names_.size());
  names_.push_back(name);
  ids_.emplace(name, id);
  Grow(names_.size());
  return id;
}

void ClassificationAccumulator::Grow(std::size_t n) {
  confusion_.resize(n);
  for (auto& row : confusion_) row.resize(n, 0.0);
  scores_.resize(n);
  for (auto& row : scores_) row.resize(score_columns_);
  loss_if_pos_.resize(n);
  loss_if_neg_.resize(n);
  brier_if_pos_.resize(n);
  brier_if_neg_.resize(n);
  for (auto& bin : bin_class_weight_) bin.resize(n, 0.0);
}

int ClassificationAccumulator::EceBin(double p) const {
  return static_cast<int>(std::lower_bound(inner_edges_.begin(), inner_edges_.end(), p) -
                          inner_edges_.begin());
}

ClassificationAccumulator::RowError ClassificationAccumulator::Add(const std::string& label,
                                                                   const std::string& prediction,
                                                                   const double* probs, double w) {
  const int t = ClassId(label);
  const int p = ClassId(prediction);
  if (t < 0 || p < 0) return RowError::kTooManyClasses;
  const std::size_t k = opt_.probability_classes.size();
  if (opt_.probabilities == Probabilities::kPerClass && static_cast<std::size_t>(t) >= k) {
    return RowError::kNoProbabilityColumn;
  }
  ++rows_;
  weight_sum_.Add(w);
  confusion_[t][p] += w;
  if (opt_.probabilities == Probabilities::kNone) return RowError::kOk;

  if (opt_.probabilities == Probabilities::kPerClass) {
    // sklearn log_loss: clip every column to [eps, 1 - eps], renormalise the row, -log p_true.
    double sum = 0;
    for (std::size_t j = 0; j < k; ++j)
      sum += std::clamp(probs[j], opt_.log_loss_eps, 1 - opt_.log_loss_eps);
    const double cp = std::clamp(probs[t], opt_.log_loss_eps, 1 - opt_.log_loss_eps);
    loss_.Add(-w * std::log(cp / sum));
  }

  if (binary_probs_) {
    const double s =
        opt_.probabilities == Probabilities::kSingle ? probs[0] : probs[positive_column_];
    scores_[t][0].Add(s, w, opt_.weighted);
    const int bin = EceBin(s);
    bin_weight_[bin] += w;
    bin_confidence_[bin] += w * s;
    bin_class_weight_[bin][t] += w;
    brier_if_pos_[t].Add(w * (1 - s) * (1 - s));
    brier_if_neg_[t].Add(w * s * s);
    if (opt_.probabilities == Probabilities::kSingle) {
      // sklearn turns one column p into [1 - p, p] after clipping p, then renormalises.
      const double cp = std::clamp(s, opt_.log_loss_eps, 1 - opt_.log_loss_eps);
      const double sum = (1 - cp) + cp;
      loss_if_pos_[t].Add(-w * std::log(cp / sum));
      loss_if_neg_[t].Add(-w * std::log((1 - cp) / sum));
    }
    return RowError::kOk;
  }

  // More than two classes: one-vs-rest scores, top-label calibration, multiclass Brier.
  std::size_t top = 0;
  double brier = 0;
  for (std::size_t j = 0; j < k; ++j) {
    scores_[t][j].Add(probs[j], w, opt_.weighted);
    if (probs[j] > probs[top]) top = j;
    const double d = probs[j] - (static_cast<int>(j) == t ? 1.0 : 0.0);
    brier += d * d;
  }
  brier_.Add(w * brier);
  const int bin = EceBin(probs[top]);
  bin_weight_[bin] += w;
  bin_confidence_[bin] += w * probs[top];
  if (static_cast<int>(top) == t) bin_correct_[bin] += w;
  return RowError::kOk;
}

std::size_t ClassificationAccumulator::score_bytes() const {
  std::size_t bytes = 0;
  for (const auto& row : scores_) {
    for (const auto& bag : row) bytes += bag.bytes();
  }
  return bytes;
}

MetricSet ClassificationAccumulator::Finish(nlohmann::ordered_json& details) {
  MetricSet m;
  const std::size_t n = names_.size();
  const std::vector<int> order = SortedClassOrder(names_);
  const double total = weight_sum_.value();

  std::vector<double> tp(n, 0), pred_sum(n, 0), true_sum(n, 0);
  std::vector<bool> in_labels(n, false);
  for (std::size_t a = 0; a < n; ++a) {
    tp[a] = confusion_[a][a];
    for (std::size_t b = 0; b < n; ++b) {
      true_sum[a] += confusion_[a][b];
      pred_sum[b] += confusion_[a][b];
    }
  }
  for (std::size_t a = 0; a < n; ++a) {
    // A class is "in the labels" when some row carried it, whatever its weight.
    in_labels[a] = true_sum[a] != 0;
  }

  // The positive class of binary metrics: configured, the positive probability column, or the
  // greatest class (sklearn's roc_auc_score takes the greater of two labels).
  int positive = -1;
  if (opt_.positive_label) {
    auto it = ids_.find(*opt_.positive_label);
    if (it != ids_.end()) positive = it->second;
  } else if (positive_column_ >= 0) {
    positive = positive_column_;
  } else if (n > 0) {
    positive = order.back();
  }

  details["rows"] = rows_;
  details["weight_sum"] = total;
  nlohmann::ordered_json classes = nlohmann::ordered_json::array();
  for (int c : order) classes.push_back(names_[c]);
  details["classes"] = classes;
  if (positive >= 0) details["positive_label"] = names_[positive];
  nlohmann::ordered_json matrix = nlohmann::ordered_json::array();
  for (int a : order) {
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (int b : order) row.push_back(confusion_[a][b]);
    matrix.push_back(row);
  }
  details["confusion_matrix"] = {
      {"rows", "true label"}, {"columns", "predicted label"}, {"values", matrix}};

  double correct = 0;
  for (std::size_t a = 0; a < n; ++a) correct += tp[a];
  m.Set("accuracy", correct / total);

  // balanced_accuracy_score: the mean recall over classes present in the labels.
  double recall_sum = 0;
  int recall_count = 0;
  for (std::size_t a = 0; a < n; ++a) {
    if (true_sum[a] != 0) {
      recall_sum += tp[a] / true_sum[a];
      ++recall_count;
    }
  }
  m.Set("balanced_accuracy", recall_sum / recall_count);

  // precision_recall_fscore_support over the union of label and prediction classes.
  std::vector<double> prec(n), rec(n), f1(n);
  nlohmann::ordered_json per_class = nlohmann::ordered_json::array();
  for (int c : order) {
    prec[c] = Divide(tp[c], pred_sum[c]);
    rec[c] = Divide(tp[c], true_sum[c]);
    f1[c] = F1(prec[c], rec[c]);
    per_class.push_back({{"class", names_[c]},
                         {"precision", prec[c]},
                         {"recall", rec[c]},
                         {"f1", f1[c]},
                         {"support", true_sum[c]}});
  }
  details["per_class"] = per_class;
  if (n <= 2 && positive >= 0) {
    m.Set("precision", prec[positive]);
    m.Set("recall", rec[positive]);
    m.Set("f1", f1[positive]);
  }  // with more than two classes only the macro/micro/weighted averages exist
  double pm = 0, rm = 0, fm = 0, pw = 0, rw = 0, fw = 0, stp = 0, spred = 0, strue = 0;
  for (std::size_t c = 0; c < n; ++c) {
    pm += prec[c];
    rm += rec[c];
    fm += f1[c];
    pw += prec[c] * true_sum[c];
    rw += rec[c] * true_sum[c];
    fw += f1[c] * true_sum[c];
    stp += tp[c];
    spred += pred_sum[c];
    strue += true_sum[c];
  }
  m.Set("precision_macro", pm / n);
  m.Set("recall_macro", rm / n);
  m.Set("f1_macro", fm / n);
  const double pmi = Divide(stp, spred), rmi = Divide(stp, strue);
  m.Set("precision_micro", pmi);
  m.Set("recall_micro", rmi);
  m.Set("f1_micro", F1(pmi, rmi));
  m.Set("precision_weighted", Divide(pw, strue));
  m.Set("recall_weighted", Divide(rw, strue));
  m.Set("f1_weighted", Divide(fw, strue));

  if (opt_.probabilities == Probabilities::kNone) return m;

  // ---- Ranking: ROC AUC and average precision ----
  int label_classes = 0;
  for (std::size_t c = 0; c < n; ++c) label_classes += in_labels[c] ? 1 : 0;
  if (opt_.probabilities == Probabilities::kSingle && label_classes > 2) {
    throw sdk::BadConfig(
        "probability_column gives the probability of one class (binary), but the "
        "labels hold " +
        std::to_string(label_classes) + " classes; give probability_columns, one per class");
  }
  if (binary_probs_) {
    ScoreBag pos, neg;
    for (std::size_t c = 0; c < n; ++c) {
      if (scores_[c].empty()) continue;
      (static_cast<int>(c) == positive ? pos : neg).Append(std::move(scores_[c][0]));
    }
    if (pos.TotalWeight() <= 0 || neg.TotalWeight() <= 0) {
      const std::string why = std::string("only one class present in the labels (") +
                              (pos.TotalWeight() > 0 ? "all positive" : "no positive rows") +
                              "): ROC AUC and average precision are undefined";
      m.SetUndefined("roc_auc", why);
      m.SetUndefined("average_precision", why);
    } else {
      pos.Sort();
      neg.Sort();
      RankingResult r = ComputeRanking(pos, neg);
      m.Set("roc_auc", r.roc_auc);
      m.Set("average_precision", r.average_precision);
    }
  } else {
    // One-vs-rest, macro average (roc_auc_score(multi_class="ovr"), average_precision_score).
    double auc_sum = 0, ap_sum = 0;
    std::string why;
    const std::size_t k = score_columns_;
    nlohmann::ordered_json per_class_auc = nlohmann::ordered_json::object();
    for (std::size_t j = 0; j < k && why.empty(); ++j) {
      ScoreBag pos, neg;
      for (std::size_t c = 0; c < n; ++c) {
        (c == j ? pos : neg).Append(std::move(scores_[c][j]));
      }
      if (pos.TotalWeight() <= 0 || neg.TotalWeight() <= 0) {
        why = "class \"" + names_[j] + "\" has " +
              (pos.TotalWeight() <= 0 ? "no positive rows" : "no negative rows") +
              ": its one-vs-rest ROC AUC is undefined";
        break;
      }
      pos.Sort();
      neg.Sort();
      RankingResult r = ComputeRanking(pos, neg);
      auc_sum += r.roc_auc;
      ap_sum += r.average_precision;
      per_class_auc[names_[j]] = {{"roc_auc", r.roc_auc},
                                  {"average_precision", r.average_precision}};
    }
    if (why.empty()) {
      m.Set("roc_auc", auc_sum / k);
      m.Set("average_precision", ap_sum / k);
      details["one_vs_rest"] = per_class_auc;
    } else {
      m.SetUndefined("roc_auc", why);
      m.SetUndefined("average_precision", why);
    }
  }

  // ---- Log loss, Brier score ----
  if (opt_.probabilities == Probabilities::kSingle) {
    KahanSum loss, brier;
    for (std::size_t c = 0; c < n; ++c) {
      const bool is_pos = static_cast<int>(c) == positive;
      loss.Add((is_pos ? loss_if_pos_[c] : loss_if_neg_[c]).value());
      brier.Add((is_pos ? brier_if_pos_[c] : brier_if_neg_[c]).value());
    }
    m.Set("log_loss", loss.value() / total);
    m.Set("brier", brier.value() / total);
  } else {
    m.Set("log_loss", loss_.value() / total);
    if (binary_probs_) {
      KahanSum brier;
      for (std::size_t c = 0; c < n; ++c) {
        brier.Add((static_cast<int>(c) == positive ? brier_if_pos_[c] : brier_if_neg_[c]).value());
      }
      m.Set("brier", brier.value() / total);
    } else {
      m.Set("brier", brier_.value() / total);
    }
  }

  // ---- Calibration: ECE over uniform bins ----
  double ece = 0;
  nlohmann::ordered_json bins = nlohmann::ordered_json::array();
  const int nbins = static_cast<int>(bin_weight_.size());
  for (int b = 0; b < nbins; ++b) {
    if (bin_weight_[b] == 0) continue;
    const double hit =
        binary_probs_ ? (positive >= 0 ? bin_class_weight_[b][positive] : 0.0) : bin_correct_[b];
    ece += std::fabs(hit - bin_confidence_[b]);
    bins.push_back({{"lower", b == 0 ? 0.0 : inner_edges_[b - 1]},
                    {"upper", b == nbins - 1 ? 1.0 : inner_edges_[b]},
                    {"weight", bin_weight_[b]},
                    {"mean_predicted", bin_confidence_[b] / bin_weight_[b]},
                    {binary_probs_ ? "fraction_positive" : "accuracy", hit / bin_weight_[b]}});
  }
  m.Set("ece", ece / total);
  details["reliability"] = {
      {"kind", binary_probs_ ? "positive class probability" : "top-label confidence"},
      {"bins", bins}};
  return m;
}

}  // namespace stagehost::model_validation
