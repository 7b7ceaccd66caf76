// unit_test_config.cc -- schema text and config parsing with nlohmann/json.
#include "unit_test_config.h"

#include <nlohmann/json.hpp>

#include "glob.h"
#include "junit_model.h"

namespace stagehost::unit_test {

namespace {

std::vector<std::string> Globs(const nlohmann::json& config, const char* key,
                               std::vector<std::string> fallback, const std::string& where) {
  std::vector<std::string> globs =
      config.contains(key) ? config[key].get<std::vector<std::string>>() : std::move(fallback);
  for (std::size_t i = 0; i < globs.size(); ++i) {
    std::string problem = CheckGlob(globs[i], where + "[" + std::to_string(i) + "]");
    if (!problem.empty()) throw UsageError(problem);
  }
  return globs;
}

void CheckRelative(const std::string& path, const std::string& where) {
  if (path.empty()) return;
  if (path[0] == '/')
    throw UsageError(where + " \"" + path + "\": must be relative to the workspace");
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (path.substr(start, slash == std::string::npos ? std::string::npos : slash - start) ==
        "..") {
      throw UsageError(where + " \"" + path + "\": '..' would leave the workspace");
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

}  // namespace

Config ParseConfig(std::string_view text) {
  nlohmann::json config =
      nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) throw UsageError("config is not a JSON object");
  Config c;
  try {
    c.collect_only = config.value("collect_only", false);
    if (config.contains("commands")) {
      const auto& commands = config["commands"];
      for (std::size_t i = 0; i < commands.size(); ++i) {
        const auto& entry = commands[i];
        std::string where = "commands[" + std::to_string(i) + "]";
        CommandConfig cmd;
        cmd.argv = entry.at("argv").get<std::vector<std::string>>();
        if (cmd.argv.empty() || cmd.argv[0].empty()) {
          throw UsageError(where + ".argv: the program (argv[0]) is empty");
        }
        cmd.env = entry.value("env", std::map<std::string, std::string>{});
        for (const auto& [key, value] : cmd.env) {
          if (key.empty() || key.find('=') != std::string::npos) {
            throw UsageError(where + ".env: \"" + key + "\" is not a variable name");
          }
        }
        cmd.working_dir = entry.value("working_dir", std::string());
        CheckRelative(cmd.working_dir, where + ".working_dir");
        cmd.timeout_seconds = entry.value("timeout_seconds", 0.0);
        cmd.runner = entry.value("runner", std::string("auto"));
        cmd.junit = Globs(entry, "junit", {}, where + ".junit");
        c.commands.push_back(std::move(cmd));
      }
    }
    c.junit = Globs(config, "junit", {}, "junit");
    c.exclude = Globs(config, "exclude", c.exclude, "exclude");
    c.allow_missing_reports = config.value("allow_missing_reports", false);
    c.min_tests = config.value("min_tests", std::uint64_t{1});
    c.retries = config.value("retries", std::uint32_t{0});
    c.quarantine = config.value("quarantine", std::vector<std::string>{});
    c.quarantine_file = config.value("quarantine_file", std::string());
    CheckRelative(c.quarantine_file, "quarantine_file");
    if (config.contains("shard")) {
      ShardConfig shard;
      shard.index = config["shard"].at("index").get<std::size_t>();
      shard.total = config["shard"].at("total").get<std::size_t>();
      if (shard.index < 1 || shard.index > shard.total) {
        throw UsageError("shard.index " + std::to_string(shard.index) + " is not within 1.." +
                         std::to_string(shard.total) + " (shard.total)");
      }
      c.shard = shard;
    }
    c.durations_from = config.value("durations_from", std::string());
    if (!c.durations_from.empty()) {
      std::string problem = CheckGlob(c.durations_from, "durations_from");
      if (!problem.empty()) throw UsageError(problem);
    }
    c.output = config.value("output", c.output);
    if (c.output.find('/') != std::string::npos || c.output == "stagehost-run.json") {
      throw UsageError("output \"" + c.output + "\": a plain file name is expected");
    }
    c.report_name = config.value("report_name", c.report_name);
    c.limits.max_text_bytes = config.value("max_output_bytes", c.limits.max_text_bytes);
    c.limits.max_report_bytes = config.value("max_report_bytes", c.limits.max_report_bytes);
    c.limits.max_xml_objects = config.value("max_xml_objects", c.limits.max_xml_objects);
    c.failure_tail_bytes = config.value("failure_tail_bytes", c.failure_tail_bytes);
    c.slowest = config.value("slowest", c.slowest);
    c.stream_output = config.value("stream_output", true);
  } catch (const nlohmann::json::exception& e) {
    // Only reachable when the host did not validate (tests calling ParseConfig directly).
    throw UsageError(std::string("config: ") + e.what());
  }
  if (c.collect_only && !c.commands.empty()) {
    throw UsageError("collect_only is true but commands are given: drop one of them");
  }
  if (!c.collect_only && c.commands.empty()) {
    throw UsageError(
        "no commands to run: give commands, or set collect_only: true to only read "
        "existing reports");
  }
  bool any_glob = !c.junit.empty();
  for (const CommandConfig& cmd : c.commands) any_glob = any_glob || !cmd.junit.empty();
  if (!any_glob) {
    throw UsageError(
        "junit: no report globs; name the JUnit file(s) the tests write, e.g. "
        "junit: [\"build/junit.xml\"]");
  }
  if (c.limits.max_text_bytes > 0 && c.limits.max_text_bytes < 256) {
    throw UsageError("max_output_bytes " + std::to_string(c.limits.max_text_bytes) +
                     " is too small to be useful (minimum 256, or 0 for no cap)");
  }
  if (c.limits.max_report_bytes > 0 && c.limits.max_report_bytes < 4096) {
    throw UsageError("max_report_bytes " + std::to_string(c.limits.max_report_bytes) +
                     " is too small (minimum 4096, or 0 for no limit)");
  }
  return c;
}

}  // namespace stagehost::unit_test
