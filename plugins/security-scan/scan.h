// scan.h -- one security scan of a workspace: walks the tree once, in parallel, and runs the
// secret, model and dependency scanners on each file; applies the baseline and the severity
// threshold.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config.h"
#include "findings.h"
#include "manifests.h"

namespace stagehost::security_scan {

struct ScanStats {
  std::uint64_t files_seen = 0, files_scanned = 0, bytes_scanned = 0;
  std::uint64_t skipped_large = 0, skipped_binary = 0, skipped_excluded = 0;
  std::uint64_t notebooks = 0, model_files = 0, dirs_skipped = 0;
  std::size_t rules = 0, advisories = 0;
  std::vector<std::string>
      fallback_rules;  // secret rules Hyperscan rejected (RE2 on keyword lines)
  std::string rules_source;
  bool rules_cached = false;  // the Hyperscan database came from cache_dir
  double seconds = 0;
  unsigned threads = 1;
};

struct ScanResult {
  std::vector<Finding> findings;  // sorted (SortFindings)
  std::vector<Manifest> manifests;
  ScanStats stats;
  std::vector<std::string> messages;  // warnings: unreadable files, unparsed manifests, ...
  std::string start_time, end_time;   // UTC, YYYY-MM-DDTHH:MM:SS
  std::size_t failing = 0;            // findings at or above fail_on, not in the baseline
  std::size_t baselined = 0;
};

// Throws stagehost::sdk::BadConfig for configuration problems (unreadable gitleaks config, OSV
// database or required baseline; invalid rule regex) and sdk::Cancelled when `cancelled` says so.
ScanResult RunScan(const Config& config, const std::string& workspace,
                   const std::function<bool()>& cancelled = {});

// UTC timestamp in GitLab's report format.
std::string UtcNow();

}  // namespace stagehost::security_scan
