// stage.h -- the unit-test stage from config to verdict, independent of the SDK: run (or skip) the
// commands, read the reports, retry failed tests, normalise, write the report, judge.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "junit_model.h"
#include "unit_test_config.h"

namespace stagehost::unit_test {

// What the stage needs from its host; the plugin adapts sdk::Context to it.
class StageIo {
 public:
  virtual ~StageIo() = default;
  virtual void Info(std::string_view line) = 0;
  virtual void Warn(std::string_view line) = 0;
  virtual void Error(std::string_view line) = 0;
  virtual void CommandOutput(std::string_view bytes) = 0;  // raw bytes of a test command
  virtual bool Cancelled() = 0;
};

struct StageInput {
  std::string workspace;         // absolute
  std::string artifact_dir;      // absolute
  std::vector<std::string> env;  // "KEY=VALUE"
  std::uint64_t deadline_unix_ms = 0;
};

struct StageResult {
  bool passed = false;
  std::string reason;  // one line: why it failed, or the summary when it passed
  Counts counts;
  std::string report_file;                                   // relative to the artifact directory
  std::vector<std::pair<std::string, std::string>> outputs;  // key -> JSON value
};

// Throws UsageError (unusable config or input) or CancelledError.
StageResult RunStage(const Config& config, const StageInput& input, StageIo& io);

}  // namespace stagehost::unit_test
