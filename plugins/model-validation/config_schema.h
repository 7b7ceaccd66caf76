// config_schema.h -- the JSON Schema of the model-validation configuration (the key reference).
#pragma once

namespace stagehost::model_validation {

// constexpr, so the plugin class can use it as its kConfigSchema.
inline constexpr const char* kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "model-validation configuration",
  "type": "object",
  "required": ["predictions"],
  "properties": {
    "predictions": {
      "description": "The predictions file to validate, and which of its columns mean what.",
      "type": "object",
      "required": ["path"],
      "properties": {
        "path": {"description": "Predictions file (CSV with a header line, or JSON Lines), relative to the workspace.", "type": "string", "minLength": 1},
        "format": {"description": "File format; auto picks jsonl for .jsonl/.ndjson names and csv otherwise.", "enum": ["auto", "csv", "jsonl"], "default": "auto"},
        "delimiter": {"description": "CSV field delimiter: one character, or \"tab\".", "type": "string", "default": ","},
        "task": {"description": "classification: labels are classes; regression: labels and predictions are numbers.", "enum": ["classification", "regression"], "default": "classification"},
        "label_column": {"description": "Column of the true label (class or number).", "type": "string", "default": "label"},
        "prediction_column": {"description": "Column of the predicted label or value. Default \"prediction\". With probability_columns and no such column in the file, the prediction is the class of the highest probability (on ties, the first class in sorted order).", "type": "string"},
        "probability_column": {"description": "Binary classification: column holding the probability of positive_label.", "type": "string"},
        "probability_columns": {"description": "One column per class: {\"<class label>\": \"<column>\"}. Every label in the file must be one of these classes. Enables ROC AUC, average precision, log loss, Brier and ECE.", "type": "object", "additionalProperties": {"type": "string"}, "minProperties": 2},
        "positive_label": {"description": "The positive class for binary metrics (precision, recall, f1, ROC AUC, average precision, Brier, ECE). Default: the greater class (numerically when all classes are numbers).", "type": "string"},
        "weight_column": {"description": "Column of non-negative sample weights, honoured wherever scikit-learn's sample_weight is.", "type": "string"},
        "group_column": {"description": "Column naming each row's slice; every metric is also computed per slice.", "type": "string"}
      }
    },
    "metrics": {
      "description": "Options of the metric computations.",
      "type": "object",
      "properties": {
        "ece_bins": {"description": "Number of uniform bins on [0, 1] for ECE and the reliability curve.", "type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
        "log_loss_eps": {"description": "Probabilities are clipped to [eps, 1 - eps] for log loss; default is float64 machine epsilon (scikit-learn's eps=\"auto\").", "type": "number", "exclusiveMinimum": 0, "maximum": 0.5, "default": 2.220446049250313e-16},
        "max_classes": {"description": "Refuse more distinct class labels than this (a guard against a regression file read as classification).", "type": "integer", "minimum": 2, "default": 1000},
        "max_groups": {"description": "Refuse more distinct slices than this.", "type": "integer", "minimum": 1, "default": 1000}
      }
    },
    "metrics_prefix": {"description": "Prefix of every metric name in metrics.txt (OpenMetrics).", "type": "string", "pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$", "default": "model_"},
    "baseline": {
      "description": "The result JSON (model-validation.json) of the previous model, for change gates.",
      "type": "object",
      "required": ["path"],
      "properties": {
        "path": {"description": "Baseline result file, relative to the workspace.", "type": "string", "minLength": 1},
        "required": {"description": "When false, a missing baseline file skips the change gates (reported as skipped) instead of being an error.", "type": "boolean", "default": false}
      }
    },
    "gates": {
      "description": "Checks on the metrics; the stage fails when any fails. Each gate yields one check per bound (min/max) and per change limit.",
      "type": "array",
      "items": {
        "type": "object",
        "required": ["metric"],
        "properties": {
          "name": {"description": "Name shown in reports; default derived from the metric and the limit.", "type": "string"},
          "metric": {"description": "Metric name, e.g. accuracy, f1_macro, roc_auc, log_loss, ece, rmse, r2.", "type": "string"},
          "group": {"description": "Check the metric of this slice instead of the whole file; \"*\" checks every slice.", "type": "string"},
          "min": {"description": "Absolute lower bound: passes iff value >= min.", "type": "number"},
          "max": {"description": "Absolute upper bound: passes iff value <= max.", "type": "number"},
          "direction": {"description": "Which way is better, for the change limits. Default per metric (lower for losses and errors, higher otherwise).", "enum": ["higher", "lower"]},
          "max_worsening": {"description": "Change limit vs the baseline, in the metric's units: worsening = baseline - value (higher is better) or value - baseline (lower is better); passes iff worsening <= max_worsening. A negative limit demands an improvement.", "type": "number"},
          "max_relative_worsening": {"description": "Change limit vs the baseline as a fraction: relative worsening = worsening / |baseline|; passes iff it is <= the limit (0.05 = at most 5 % worse).", "type": "number"}
        }
      }
    },
    "drift": {
      "description": "Per-feature drift tests between a reference and a current feature table with the same columns.",
      "type": "object",
      "required": ["reference", "current"],
      "properties": {
        "reference": {"description": "Reference feature table (e.g. the training data), relative to the workspace.", "type": "string", "minLength": 1},
        "current": {"description": "Current feature table (e.g. recent production inputs), relative to the workspace.", "type": "string", "minLength": 1},
        "reference_filter": {"description": "Read only reference rows whose columns equal these values, e.g. {\"split\": \"train\"}.", "type": "object", "additionalProperties": {"type": "string"}},
        "current_filter": {"description": "Read only current rows whose columns equal these values, e.g. {\"split\": \"test\"}.", "type": "object", "additionalProperties": {"type": "string"}},
        "format": {"description": "Format of both tables.", "enum": ["auto", "csv", "jsonl"], "default": "auto"},
        "delimiter": {"description": "CSV field delimiter of both tables.", "type": "string", "default": ","},
        "features": {"description": "Columns to test; default every reference column not in exclude.", "type": "array", "items": {"type": "string"}},
        "exclude": {"description": "Columns never tested (ids, labels).", "type": "array", "items": {"type": "string"}, "default": []},
        "categorical": {"description": "Columns tested as categories (PSI over categories, chi-squared); all others must be numeric (PSI over quantile bins, KS).", "type": "array", "items": {"type": "string"}, "default": []},
        "bins": {"description": "Number of PSI bins for numeric features, at the reference's quantiles (fewer when quantiles coincide).", "type": "integer", "minimum": 2, "maximum": 1000, "default": 10},
        "epsilon": {"description": "Floor of each bin's share in PSI, so empty bins stay finite.", "type": "number", "exclusiveMinimum": 0, "default": 0.0001},
        "tests": {"description": "Tests to run; psi applies to every feature, ks to numeric, chi2 to categorical ones.", "type": "array", "items": {"enum": ["psi", "ks", "chi2"]}, "default": ["psi", "ks", "chi2"]},
        "psi_threshold": {"description": "A feature drifts when PSI > this (0.1 moderate, 0.25 major).", "type": "number", "minimum": 0, "default": 0.25},
        "ks_p_value": {"description": "A numeric feature drifts when the KS p-value < this.", "type": "number", "minimum": 0, "maximum": 1, "default": 0.05},
        "ks_max_statistic": {"description": "Also: a numeric feature drifts when the KS statistic D > this.", "type": "number", "minimum": 0, "maximum": 1},
        "chi2_p_value": {"description": "A categorical feature drifts when the chi-squared p-value < this.", "type": "number", "minimum": 0, "maximum": 1, "default": 0.05},
        "max_drifted_share": {"description": "Dataset check: fail when the share of drifted features is above this.", "type": "number", "minimum": 0, "maximum": 1},
        "overrides": {
          "description": "Per-feature thresholds: {\"<feature>\": {...}}.",
          "type": "object",
          "additionalProperties": {
            "type": "object",
            "properties": {
              "psi_threshold": {"description": "PSI threshold for this feature.", "type": "number", "minimum": 0},
              "ks_p_value": {"description": "KS p-value threshold for this feature.", "type": "number", "minimum": 0, "maximum": 1},
              "ks_max_statistic": {"description": "KS statistic threshold for this feature.", "type": "number", "minimum": 0, "maximum": 1},
              "chi2_p_value": {"description": "Chi-squared p-value threshold for this feature.", "type": "number", "minimum": 0, "maximum": 1},
              "skip": {"description": "Do not test this feature.", "type": "boolean", "default": false}
            },
            "additionalProperties": false
          }
        }
      }
    },
    "model": {
      "description": "Checks on the model artifact; its SHA-256 is recorded in the result.",
      "type": "object",
      "required": ["path"],
      "properties": {
        "path": {"description": "Model file, relative to the workspace.", "type": "string", "minLength": 1},
        "max_bytes": {"description": "Size budget: the check fails when the file is larger.", "type": "integer", "minimum": 0},
        "required": {"description": "When true a missing file fails the stage; when false the checks are skipped.", "type": "boolean", "default": true}
      }
    }
  }
})json";

}  // namespace stagehost::model_validation
