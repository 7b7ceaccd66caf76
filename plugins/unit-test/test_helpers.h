// test_helpers.h -- shared by the unit-test plugin's tests: real-tool report generation and
// small file helpers.
#pragma once

#include <string>
#include <string_view>

#include "junit_model.h"
#include "testutil/run_process.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::unit_test::fixtures {

// A pytest module with one test of each kind; test_flaky fails while the counter file named by
// FLAKY_COUNTER_FILE holds 0 (it counts runs). Expected per run without retries:
// 6 tests: passed 2 (test_passes, test_records_property), failed 2 (test_fails, test_flaky),
// errors 1 (test_fixture_error), skipped 1 (test_skips).
inline constexpr std::string_view kPytestModule = R"PY(import os
import pytest


@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert 1 + 1 == 3, "arithmetic is hard"


def test_fixture_error(broken):
    pass


def test_skips():
    pytest.skip("not on this machine")


def test_records_property(record_property, record_testsuite_property):
    record_property("model", "iris")
    record_testsuite_property("suite_prop", "1")


def test_flaky():
    path = os.environ.get("FLAKY_COUNTER_FILE", "")
    if not path:
        return
    runs = int(open(path).read() or "0") if os.path.exists(path) else 0
    with open(path, "w") as f:
        f.write(str(runs + 1))
    assert runs >= 1, "fails on the first run only"
)PY";

// The CTestTestfile.cmake of the CTest fixture: pass, fail (empty message, output on stderr),
// SKIP_RETURN_CODE 77, DISABLED, TIMEOUT 1. Expected after normalisation: 5 tests: passed 1,
// failed 2 (fails, hangs), skipped 2 (skips, disabled), errors 0.
inline constexpr std::string_view kCtestFile = R"CM(add_test(passes "/bin/sh" "-c" "echo all good")
add_test(fails "/bin/sh" "-c" "echo step one; echo 'assertion failed: x == 2' >&2; exit 1")
add_test(skips "/bin/sh" "-c" "echo skipping; exit 77")
set_tests_properties(skips PROPERTIES SKIP_RETURN_CODE 77)
add_test(disabled "/bin/sh" "-c" "exit 1")
set_tests_properties(disabled PROPERTIES DISABLED TRUE)
add_test(hangs "/bin/sh" "-c" "echo waiting; sleep 5")
set_tests_properties(hangs PROPERTIES TIMEOUT 1)
)CM";

inline stagehost::testutil::ProcessResult RunTool(std::vector<std::string> argv, std::string cwd,
                                                  std::map<std::string, std::string> env = {}) {
  stagehost::testutil::ProcessOptions options;
  options.argv = std::move(argv);
  options.cwd = std::move(cwd);
  options.env = std::move(env);
  options.timeout = std::chrono::milliseconds(60000);
  return stagehost::testutil::RunProcess(options);
}

}  // namespace stagehost::unit_test::fixtures
