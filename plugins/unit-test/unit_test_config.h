// unit_test_config.h -- the unit-test stage's configuration: its JSON Schema (the reference for
// every key) and the parsed, checked form.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalise.h"

namespace stagehost::unit_test {

// JSON Schema draft-07 of the configuration; every property has a description. README.md
// documents the same keys.
inline constexpr const char* kConfigSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "unit-test configuration",
  "type": "object",
  "properties": {
    "commands": {
      "description": "Test commands run in order (all of them, even after one fails). Each is an argv list, never a shell string. Required unless collect_only is true.",
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "argv": {"description": "Program and arguments; the program is looked up in the job's PATH. Example: [\"/usr/bin/python3\", \"-m\", \"pytest\", \"--junitxml=build/junit.xml\"].", "type": "array", "items": {"type": "string"}, "minItems": 1},
          "env": {"description": "Variables added to (or replacing in) the job's environment for this command.", "type": "object", "additionalProperties": {"type": "string"}},
          "working_dir": {"description": "Directory to run in, relative to the workspace. Default: the workspace.", "type": "string"},
          "timeout_seconds": {"description": "Kill the command's whole process group (SIGTERM, then SIGKILL) after this many seconds; the stage then fails. 0 = no limit other than the run's own deadline.", "type": "number", "minimum": 0, "default": 0},
          "runner": {"description": "The test runner, for retries and sharding (which need to select tests): auto detects pytest (argv[0] pytest or '-m pytest'), ctest (argv[0] ctest) and GoogleTest (an argument starting with --gtest_); none disables selection.", "enum": ["auto", "none", "pytest", "gtest", "ctest"], "default": "auto"},
          "junit": {"description": "Globs (relative to the workspace) of the JUnit reports this command writes. Needed to retry failed tests when there is more than one command; added to the top-level junit globs.", "type": "array", "items": {"type": "string", "minLength": 1}}
        },
        "required": ["argv"]
      }
    },
    "collect_only": {"description": "Run nothing: only read the reports matching junit (written by an earlier step) and judge them.", "type": "boolean", "default": false},
    "junit": {"description": "Globs, relative to the workspace, of the JUnit XML reports to read. '*' and '?' stay within a path segment, '**' spans directories. Example: [\"build/junit.xml\", \"**/TEST-*.xml\"].", "type": "array", "items": {"type": "string", "minLength": 1}},
    "exclude": {"description": "Globs of files never read as reports; a glob ending in '/**' skips the directory. The artifact directory is always excluded.", "type": "array", "items": {"type": "string", "minLength": 1}, "default": [".git/**", "stagehost-reports/**"]},
    "allow_missing_reports": {"description": "When no report matches, judge zero tests (min_tests decides) instead of failing with a configuration error.", "type": "boolean", "default": false},
    "min_tests": {"description": "Fail the stage when fewer tests than this were executed (skipped tests do not count). Catches '0 tests collected'. Not enforced for an empty shard.", "type": "integer", "minimum": 0, "default": 1},
    "retries": {"description": "Re-run each failed test up to this many times (only for pytest, gtest and ctest commands, which can select tests). A test that passes on a re-run is flaky: it passes, and its failed attempts are kept as <flakyFailure>; one that never passes keeps <failure> plus one <rerunFailure> per re-run.", "type": "integer", "minimum": 0, "maximum": 10, "default": 0},
    "quarantine": {"description": "Test ids 'classname::name' ('*' and '?' wildcards) whose failures are reported (marked quarantined) but do not fail the stage. Examples: 'tests.test_model::test_flaky', 'NetTest::*', 'slow_io::slow_io' (ctest).", "type": "array", "items": {"type": "string", "minLength": 1}},
    "quarantine_file": {"description": "A file in the workspace with more quarantine ids, one per line; '#' starts a comment.", "type": "string", "minLength": 1},
    "shard": {"description": "Run only this shard of the tests. Default: CI_NODE_INDEX/CI_NODE_TOTAL from the job (GitLab parallel:), else everything.", "type": "object", "properties": {"index": {"description": "1-based shard number, like CI_NODE_INDEX.", "type": "integer", "minimum": 1}, "total": {"description": "Number of shards, like CI_NODE_TOTAL.", "type": "integer", "minimum": 1}}, "required": ["index", "total"]},
    "durations_from": {"description": "Glob of a previous JUnit report whose test times balance the shards (greedy bin packing). Without it, shards get equal test counts.", "type": "string", "minLength": 1},
    "output": {"description": "File name of the normalised JUnit report in the artifact directory.", "type": "string", "pattern": "^[A-Za-z0-9._-]+\\.xml$", "default": "junit.xml"},
    "report_name": {"description": "The name attribute of the report's <testsuites> root.", "type": "string", "default": "stagehost unit-test"},
    "max_output_bytes": {"description": "Cap on each system-out, system-err and failure text in the report; longer ones keep their tail, with a note. 0 = no cap.", "type": "integer", "minimum": 0, "default": 65536},
    "max_report_bytes": {"description": "Size limit of the report file (GitLab refuses JUnit files over 30 MB). Texts are cut further, then passed tests left out, with a note. 0 = no limit.", "type": "integer", "minimum": 0, "default": 29000000},
    "max_xml_objects": {"description": "Limit on elements plus attributes in the report (GitLab rejects reports over 250,000 XML objects). 0 = no limit.", "type": "integer", "minimum": 0, "default": 240000},
    "failure_tail_bytes": {"description": "How much of a test's output fills a failure that has no message (CTest).", "type": "integer", "minimum": 64, "default": 4096},
    "slowest": {"description": "How many of the slowest tests the log lists.", "type": "integer", "minimum": 0, "default": 5},
    "stream_output": {"description": "Copy the commands' output to the stage log as it comes.", "type": "boolean", "default": true}
  }
})";

struct CommandConfig {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string working_dir;  // relative to the workspace; "" = the workspace
  double timeout_seconds = 0;
  std::string runner = "auto";
  std::vector<std::string> junit;  // this command's reports (globs)
};

struct ShardConfig {
  std::size_t index = 1;  // 1-based, like CI_NODE_INDEX
  std::size_t total = 1;
};

struct Config {
  std::vector<CommandConfig> commands;
  bool collect_only = false;
  std::vector<std::string> junit;
  std::vector<std::string> exclude = {".git/**", "stagehost-reports/**"};
  bool allow_missing_reports = false;
  std::uint64_t min_tests = 1;
  std::uint32_t retries = 0;
  std::vector<std::string> quarantine;
  std::string quarantine_file;
  std::optional<ShardConfig> shard;
  std::string durations_from;
  std::string output = "junit.xml";
  std::string report_name = "stagehost unit-test";
  Limits limits;
  std::size_t failure_tail_bytes = 4096;
  std::size_t slowest = 5;
  bool stream_output = true;
};

// Parses config JSON (already validated against kConfigSchema by the host) and checks what the
// schema cannot: globs, paths, contradictions. Throws UsageError naming the key.
Config ParseConfig(std::string_view json);

}  // namespace stagehost::unit_test
