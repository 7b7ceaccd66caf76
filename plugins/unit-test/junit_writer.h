// junit_writer.h -- writes the normalised JUnit report: one <testsuites> root, suites in first-seen
// order, Surefire's flaky/rerun elements, escaped and size-capped text.
#pragma once

#include <cstddef>
#include <string>

#include "junit_model.h"
#include "normalise.h"

namespace stagehost::unit_test {

struct WriteStats {
  std::size_t bytes = 0;
  std::size_t texts_cut = 0;  // system-out/err or failure texts cut to the plan's cap
};

// Writes `report` to `path` (truncating it). `name` goes on the root <testsuites>. The notes are
// written as XML comments at the top. Throws std::runtime_error when the file cannot be written.
WriteStats WriteJUnit(const Report& report, const WritePlan& plan, const std::string& name,
                      const std::string& path);

// The same into a string (for tests and small reports).
std::string RenderJUnit(const Report& report, const WritePlan& plan, const std::string& name,
                        WriteStats* stats = nullptr);

}  // namespace stagehost::unit_test
