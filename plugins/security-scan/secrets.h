// secrets.h -- the secret scanner: one Hyperscan database of every rule (candidate finder), RE2 to
// confirm each candidate line and extract the secret, then entropy, keywords and allowlists.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "findings.h"
#include "rules.h"

namespace stagehost::security_scan {

struct SecretScanOptions {
  bool decode_base64 = true;  // decode base64 blobs one level and scan the result
  // Extra allowlists from the stage config (same semantics as gitleaks' global allowlists).
  std::vector<Allowlist> allowlists;
  // When set, the compiled Hyperscan database is kept here across runs (hs_serialize_database),
  // in hyperscan-<sha256 of the patterns, flags and Hyperscan version>.db.
  std::string cache_dir;
};

class SecretScanner {
 public:
  // Per-thread matching state (a Hyperscan scratch). One per thread; not shareable.
  class Scratch;
  struct ScratchDeleter {
    void operator()(Scratch* s) const;
  };
  using ScratchPtr = std::unique_ptr<Scratch, ScratchDeleter>;

  // Compiles every rule. Throws std::runtime_error("rule <id>: <problem>") for a regex that RE2
  // cannot compile (RE2 is the reference syntax, as in gitleaks).
  SecretScanner(RuleSet rules, SecretScanOptions options);
  ~SecretScanner();
  SecretScanner(const SecretScanner&) = delete;
  SecretScanner& operator=(const SecretScanner&) = delete;

  ScratchPtr NewScratch() const;

  // Scans one file's text; appends findings with `rel_path` as their path.
  void ScanText(Scratch& scratch, std::string_view rel_path, std::string_view data,
                std::vector<Finding>& out) const;
  // A Jupyter notebook: scans each cell's source and text outputs (not images); lines point
  // into the raw .ipynb file. Falls back to ScanText when the JSON does not parse.
  void ScanNotebook(Scratch& scratch, std::string_view rel_path, std::string_view raw,
                    std::vector<Finding>& out) const;
  // Rules whose path regex matches `rel_path` and that have no content regex (gitleaks'
  // path-only rules, e.g. key stores by extension).
  void ScanPath(std::string_view rel_path, std::vector<Finding>& out) const;

  // True when `rel_path` matches a global allowlist's paths (file not worth reading).
  bool PathAllowed(std::string_view rel_path) const;

  std::size_t rule_count() const;
  // Rules Hyperscan rejected, matched by RE2 on lines holding one of their keywords instead.
  const std::vector<std::string>& fallback_rules() const;
  const std::string& source() const;
  // True when the Hyperscan database was read from SecretScanOptions::cache_dir, not compiled.
  bool database_from_cache() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stagehost::security_scan
