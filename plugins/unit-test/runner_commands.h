// runner_commands.h -- what we know about the test runners whose tests we can select: how to list
// a command's tests, how to run a subset (a shard, or the failed tests again) and where that run
// writes its JUnit report, and how a JUnit case maps back to the runner's own test id.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "junit_model.h"

namespace stagehost::unit_test {

enum class RunnerKind { kNone, kPytest, kGtest, kCtest };

// "auto" | "none" | "pytest" | "gtest" | "ctest"; auto detects from the argv: pytest when argv[0]
// is pytest/py.test or the args hold "-m pytest", ctest when argv[0] is ctest, gtest when an
// argument starts with "--gtest_".
RunnerKind ResolveRunner(std::string_view setting, const std::vector<std::string>& argv);
const char* RunnerName(RunnerKind kind);

// The argv that lists the tests `argv` would run, without running them:
//   pytest: + --collect-only -q (any --junitxml dropped);  gtest: + --gtest_list_tests;
//   ctest: + --show-only=json-v1 (any --output-junit dropped).
std::vector<std::string> ListArgv(RunnerKind kind, const std::vector<std::string>& argv);

// The runner's test ids from the listing's output. Throws UsageError when it cannot be read.
std::vector<std::string> ParseTestList(RunnerKind kind, std::string_view output);

// The argv that runs only `selected` (a subset of `listed`, both runner ids):
//   pytest: + --deselect <id> for every listed id not selected (positional paths keep working);
//   gtest: --gtest_filter=<Suite.Name>:... replacing any filter;
//   ctest: -R ^(<escaped names>)$ replacing any -R/-I.
// When `report_path` is not empty, the run's JUnit goes there instead of where argv said
// (pytest --junitxml=, gtest --gtest_output=xml:, ctest --output-junit).
std::vector<std::string> SelectArgv(RunnerKind kind, const std::vector<std::string>& argv,
                                    const std::vector<std::string>& selected,
                                    const std::vector<std::string>& listed,
                                    const std::string& report_path);

// The runner's id of a JUnit case: pytest node id ("tests/test_x.py::TestA::test_b[1]", the
// module path found from the dotted classname under `cwd`, or taken from xunit1's `file`);
// gtest "Suite.Name"; ctest the test name.
std::string SelectionId(RunnerKind kind, const TestCase& tc, const std::string& cwd);

// Regex-escapes a CTest test name for -R (ctest uses CMake's regex syntax).
std::string CtestRegexEscape(std::string_view name);

}  // namespace stagehost::unit_test
