// config_schema.h -- the JSON Schema of the security-scan configuration (the key reference).
#pragma once

namespace stagehost::security_scan {

// constexpr, so the plugin class can use it as its kConfigSchema. Every object is closed.
inline constexpr const char* kConfigSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "security-scan configuration",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "fail_on": {"description": "Fail the stage when a finding (not in the baseline) has at least this severity; never: only report.", "enum": ["info", "low", "medium", "high", "critical", "never"], "default": "high"},
    "max_file_bytes": {"description": "Files larger than this are skipped (and counted) by the secret scan.", "type": "integer", "minimum": 1024, "default": 10485760},
    "max_model_bytes": {"description": "Model files larger than this are skipped by the pickle scan.", "type": "integer", "minimum": 1024, "default": 2147483648},
    "threads": {"description": "Scanning threads; 0 uses every core.", "type": "integer", "minimum": 0, "maximum": 256, "default": 0},
    "skip_dirs": {"description": "Directory names never entered (vendored and generated trees).", "type": "array", "items": {"type": "string", "minLength": 1}, "default": [".git", ".hg", ".svn", "node_modules", "vendor", "dist", "build", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache", "site-packages", "third_party", ".terraform"]},
    "exclude": {"description": "RE2 regexes over the workspace-relative path ('/' separated); matching files are not scanned at all.", "type": "array", "items": {"type": "string"}, "default": []},
    "secrets": {
      "description": "Secret detection.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "enabled": {"type": "boolean", "default": true},
        "gitleaks_config": {"description": "A gitleaks TOML config, relative to the workspace. Default: .gitleaks.toml in the workspace if present, else the built-in rules. [extend] useDefault = true extends the built-in rules.", "type": "string", "minLength": 1},
        "decode_base64": {"description": "Decode base64 blobs (32+ characters) one level and scan the decoded text.", "type": "boolean", "default": true},
        "notebooks": {"description": "Read .ipynb files as notebooks: cell sources and text outputs, not images.", "type": "boolean", "default": true},
        "disabled_rules": {"description": "Rule ids to leave out.", "type": "array", "items": {"type": "string"}, "default": []},
        "allowlist": {
          "description": "Findings to ignore, with gitleaks' allowlist semantics (any criterion matches).",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "paths": {"description": "RE2 regexes over the relative path.", "type": "array", "items": {"type": "string"}, "default": []},
            "regexes": {"description": "RE2 regexes over the secret.", "type": "array", "items": {"type": "string"}, "default": []},
            "stopwords": {"description": "Case-insensitive substrings of the secret.", "type": "array", "items": {"type": "string"}, "default": []}
          }
        }
      }
    },
    "models": {
      "description": "Unsafe model files: pickle opcodes that import code (plain pickle, PyTorch zip, joblib, .npy/.npz).",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "enabled": {"type": "boolean", "default": true},
        "allow_globals": {"description": "Extra safe globals, \"module.name\" or \"module.*\".", "type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.]*(\\.\\*)?$"}, "default": []},
        "unknown_global_severity": {"description": "Severity of a global that is neither allow-listed nor known to be dangerous.", "enum": ["info", "low", "medium", "high", "critical"], "default": "medium"}
      }
    },
    "dependencies": {
      "description": "Dependency scanning against an offline OSV database.",
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "enabled": {"type": "boolean", "default": true},
        "osv_db": {"description": "OSV advisories: a directory of OSV JSON files or a .zip of them (e.g. osv.dev's per-ecosystem all.zip), relative to the workspace or absolute. Without it the manifests are listed but not matched.", "type": "string", "minLength": 1},
        "unknown_severity": {"description": "Severity of an advisory that states none.", "enum": ["info", "low", "medium", "high", "critical"], "default": "medium"}
      }
    },
    "baseline": {
      "description": "A previous security-scan.json (or {\"fingerprints\": [...]}) whose findings are reported but never fail the stage.",
      "type": "object",
      "additionalProperties": false,
      "required": ["path"],
      "properties": {
        "path": {"type": "string", "minLength": 1},
        "required": {"description": "When false, a missing baseline file is not an error.", "type": "boolean", "default": false}
      }
    },
    "cache_dir": {"description": "A directory (relative to the workspace, or absolute) where the compiled secret-rule database is kept between runs, keyed by the sha256 of the rule set; e.g. a directory the CI caches. Default: compile on every run.", "type": "string", "minLength": 1},
    "commit_sha": {"description": "Commit recorded in the secret-detection report; default $CI_COMMIT_SHA, else 0000000.", "type": "string", "minLength": 1}
  }
})json";

}  // namespace stagehost::security_scan
