// stage.cc -- orchestration of the unit-test stage: commands, reports, retries, verdict.
#include "stage.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "glob.h"
#include "junit_reader.h"
#include "junit_writer.h"
#include "normalise.h"
#include "process.h"
#include "runner_commands.h"
#include "sharding.h"

namespace stagehost::unit_test {
namespace {

namespace fs = std::filesystem;

struct CommandRun {
  std::size_t index = 0;
  const CommandConfig* config = nullptr;
  RunnerKind runner = RunnerKind::kNone;
  std::string cwd;
  std::vector<std::string> env;
  std::vector<std::string> listed;  // runner ids, when listed
  bool have_list = false;
  bool ran = false;
  bool empty_shard = false;
  CommandResult result;
};

std::string Quote(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) {
        if (c == '\'') {
          out += "'\\''";
        } else {
          out += c;
        }
      }
      out += '\'';
    }
  }
  return out.size() > 2000 ? out.substr(0, 2000) + " ..." : out;
}

std::string Fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

std::vector<std::string> MergeEnv(const std::vector<std::string>& base,
                                  const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (const std::string& e : base) {
    std::string key = e.substr(0, e.find('='));
    if (extra.count(key) == 0) out.push_back(e);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

std::string EnvValue(const std::vector<std::string>& env, const std::string& key) {
  for (const std::string& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      return e.substr(key.size() + 1);
    }
  }
  return "";
}

class Stage {
 public:
  Stage(const Config& config, const StageInput& input, StageIo& io)
      : config_(config), input_(input), io_(io) {}

  StageResult Run() {
    LoadQuarantine();
    ResolveShard();
    start_ = fs::file_time_type::clock::now();
    for (std::size_t i = 0; i < config_.commands.size(); ++i) RunCommandAt(i);
    ReadReports();
    for (std::uint32_t attempt = 1; attempt <= config_.retries; ++attempt) {
      if (!RetryFailed(attempt)) break;
    }
    return Finish();
  }

 private:
  // ---- setup ---------------------------------------------------------------------------------

  void LoadQuarantine() {
    quarantine_ = config_.quarantine;
    if (config_.quarantine_file.empty()) return;
    fs::path path = fs::path(input_.workspace) / config_.quarantine_file;
    std::ifstream in(path);
    if (!in) {
      throw UsageError("quarantine_file \"" + config_.quarantine_file + "\": cannot read " +
                       path.string());
    }
    std::string line;
    while (std::getline(in, line)) {
      std::size_t hash = line.find('#');
      if (hash != std::string::npos) line.erase(hash);
      line.erase(0, line.find_first_not_of(" \t\r"));
      line.erase(line.find_last_not_of(" \t\r") + 1);
      if (!line.empty()) quarantine_.push_back(line);
    }
  }

  void ResolveShard() {
    if (config_.shard) {
      shard_ = *config_.shard;
    } else {
      std::string index = EnvValue(input_.env, "CI_NODE_INDEX");
      std::string total = EnvValue(input_.env, "CI_NODE_TOTAL");
      if (!index.empty() && !total.empty()) {
        char* end1 = nullptr;
        char* end2 = nullptr;
        unsigned long i = std::strtoul(index.c_str(), &end1, 10);
        unsigned long t = std::strtoul(total.c_str(), &end2, 10);
        if (*end1 != '\0' || *end2 != '\0' || i < 1 || t < 1 || i > t) {
          throw UsageError("CI_NODE_INDEX=" + index + " / CI_NODE_TOTAL=" + total +
                           " is not a shard (expected 1 <= index <= total)");
        }
        shard_ = ShardConfig{i, t};
      }
    }
    if (shard_.total > 1 && config_.collect_only) {
      io_.Warn("unit-test: shard " + std::to_string(shard_.index) + "/" +
               std::to_string(shard_.total) + " ignored: collect_only runs nothing to split");
      shard_ = ShardConfig{};
    }
    if (shard_.total > 1) {
      io_.Info("unit-test: shard " + std::to_string(shard_.index) + " of " +
               std::to_string(shard_.total));
      LoadDurations();
    }
  }

  void LoadDurations() {
    if (config_.durations_from.empty()) return;
    std::vector<std::string> files =
        FindFiles(input_.workspace, {config_.durations_from}, Excludes());
    if (files.empty()) {
      io_.Warn("unit-test: durations_from \"" + config_.durations_from +
               "\" matched no file; shards are balanced by test count");
      return;
    }
    try {
      for (const std::string& file : files) {
        ReadJUnitFile((fs::path(input_.workspace) / file).string(), file, durations_report_);
      }
    } catch (const UsageError& e) {
      // A stale or broken timing file must not block the tests: balance by count instead.
      io_.Warn(std::string("unit-test: durations_from not used: ") + e.what());
      durations_report_.cases.clear();
    }
  }

  std::vector<std::string> Excludes() const {
    std::vector<std::string> exclude = config_.exclude;
    std::error_code ec;
    fs::path rel = fs::relative(input_.artifact_dir, input_.workspace, ec);
    if (!ec && !rel.empty() && rel.native().rfind("..", 0) != 0 && rel != ".") {
      exclude.push_back(rel.generic_string() + "/**");
    }
    return exclude;
  }

  // ---- commands ------------------------------------------------------------------------------

  CommandResult Spawn(CommandRun& run, const std::vector<std::string>& argv, bool stream,
                      std::size_t tail_bytes) {
    CommandSpec spec;
    spec.argv = argv;
    spec.env = run.env;
    spec.cwd = run.cwd;
    spec.timeout_seconds = run.config->timeout_seconds;
    spec.deadline_unix_ms = input_.deadline_unix_ms;
    spec.tail_bytes = tail_bytes;
    std::string where = "commands[" + std::to_string(run.index) + "]";
    CommandResult result;
    try {
      result = RunCommand(
          spec,
          [&](std::string_view bytes) {
            if (stream) io_.CommandOutput(bytes);
          },
          [&] { return io_.Cancelled(); });
    } catch (const UsageError& e) {
      throw UsageError(where + ": " + e.what());
    }
    if (result.cancelled) throw CancelledError();
    return result;
  }

  void ListTests(CommandRun& run) {
    if (run.have_list) return;
    std::vector<std::string> argv = ListArgv(run.runner, run.config->argv);
    io_.Info("unit-test: listing tests: " + Quote(argv));
    CommandResult result = Spawn(run, argv, false, 64u << 20);
    std::string where = "commands[" + std::to_string(run.index) + "]";
    if (!result.ok()) {
      throw UsageError(where + ": listing the tests (" + Quote(argv) +
                       ") failed: " + result.Describe(run.config->timeout_seconds) + "\n" +
                       std::string(Tail(result.tail, 2000)));
    }
    run.listed = ParseTestList(run.runner, result.tail);
    run.have_list = true;
  }

  void RunCommandAt(std::size_t i) {
    CommandRun run;
    run.index = i;
    run.config = &config_.commands[i];
    run.cwd = (fs::path(input_.workspace) / run.config->working_dir).lexically_normal().string();
    if (run.cwd.size() > 1 && run.cwd.back() == '/') run.cwd.pop_back();
    run.env = MergeEnv(input_.env, run.config->env);
    run.runner = ResolveRunner(run.config->runner, run.config->argv);
    std::string where = "commands[" + std::to_string(i) + "]";
    std::vector<std::string> argv = run.config->argv;
    if (shard_.total > 1) {
      if (run.runner == RunnerKind::kNone) {
        throw UsageError(where + ": sharding (shard " + std::to_string(shard_.index) + "/" +
                         std::to_string(shard_.total) +
                         ") needs a runner that can select tests: set runner to pytest, gtest "
                         "or ctest");
      }
      ListTests(run);
      std::map<std::string, double> durations;
      for (const TestCase& tc : durations_report_.cases) {
        durations[SelectionId(run.runner, tc, run.cwd)] += tc.time;
      }
      std::vector<std::string> mine =
          ShardTests(run.listed, shard_.index - 1, shard_.total, durations);
      io_.Info("unit-test: " + where + ": " + std::to_string(mine.size()) + " of " +
               std::to_string(run.listed.size()) + " tests in this shard" +
               (durations.empty() ? "" : " (balanced by previous durations)"));
      if (mine.empty()) {
        run.empty_shard = true;
        commands_.push_back(std::move(run));
        return;
      }
      argv = SelectArgv(run.runner, argv, mine, run.listed, "");
    }
    io_.Info("unit-test: $ " + Quote(argv));
    run.result = Spawn(run, argv, config_.stream_output, 64 * 1024);
    run.ran = true;
    io_.Info("unit-test: " + where +
             " finished: " + run.result.Describe(run.config->timeout_seconds) + " in " +
             Fixed(static_cast<double>(run.result.wall.count()) / 1000.0, 1) + " s");
    commands_.push_back(std::move(run));
  }

  // ---- reports -------------------------------------------------------------------------------

  void ReadReports() {
    std::vector<std::string> exclude = Excludes();
    // Each file goes to the first command whose own globs match it; files matched only by the
    // top-level globs belong to the only command, when there is exactly one.
    std::map<std::string, int> owner;
    for (const CommandRun& run : commands_) {
      if (run.config->junit.empty()) continue;
      for (const std::string& f : FindFiles(input_.workspace, run.config->junit, exclude)) {
        owner.emplace(f, static_cast<int>(run.index));
      }
    }
    if (!config_.junit.empty()) {
      int sole = commands_.size() == 1 ? 0 : -1;
      for (const std::string& f : FindFiles(input_.workspace, config_.junit, exclude)) {
        owner.emplace(f, sole);
      }
    }
    std::size_t stale = 0;
    for (const auto& [file, command] : owner) {
      fs::path path = fs::path(input_.workspace) / file;
      if (!config_.collect_only) {
        std::error_code ec;
        auto mtime = fs::last_write_time(path, ec);
        // Left over from an earlier run: reading it would judge old results.
        if (!ec && mtime + std::chrono::seconds(2) < start_) {
          io_.Warn("unit-test: ignoring " + file + ": it is older than this run (stale report)");
          ++stale;
          continue;
        }
      }
      std::size_t before = report_.cases.size();
      ReadJUnitFile(path.string(), file, report_);
      for (std::size_t k = before; k < report_.cases.size(); ++k) case_command_.push_back(command);
      io_.Info("unit-test: read " + file + ": " + std::to_string(report_.cases.size() - before) +
               " test cases");
    }
    if (report_.sources.empty()) {
      std::string globs;
      for (const auto& g : config_.junit) globs += (globs.empty() ? "" : ", ") + g;
      for (const auto& run : commands_) {
        for (const auto& g : run.config->junit) globs += (globs.empty() ? "" : ", ") + g;
      }
      std::string message = "no JUnit report matched [" + globs + "] under " + input_.workspace;
      if (stale > 0) message += " (only stale reports from an earlier run)";
      bool any_ran = std::any_of(commands_.begin(), commands_.end(),
                                 [](const CommandRun& r) { return r.ran; });
      bool command_failed =
          std::any_of(commands_.begin(), commands_.end(),
                      [](const CommandRun& r) { return r.ran && !r.result.ok(); });
      if (command_failed) {
        // The tests broke before writing a report (a crash, an import error): the project
        // failed, not the configuration.
        missing_report_failure_ = message;
        io_.Error("unit-test: " + message);
      } else if (config_.allow_missing_reports || !any_ran && !config_.collect_only) {
        io_.Warn("unit-test: " + message);
      } else {
        throw UsageError(message + "; check junit (and that the command writes its report there)");
      }
    }
  }

  // ---- retries -------------------------------------------------------------------------------

  // One retry round over every command whose failed tests can be selected. Returns false when
  // nothing is left to retry.
  bool RetryFailed(std::uint32_t attempt) {
    bool any = false;
    for (CommandRun& run : commands_) {
      if (!run.ran || run.runner == RunnerKind::kNone) continue;
      std::vector<std::size_t> failing;
      for (std::size_t k = 0; k < report_.cases.size(); ++k) {
        const TestCase& tc = report_.cases[k];
        if (case_command_[k] != static_cast<int>(run.index) || !tc.failing()) continue;
        if (tc.name == "<init>" || gave_up_.count(k)) continue;
        failing.push_back(k);
      }
      if (failing.empty()) continue;
      std::string where = "commands[" + std::to_string(run.index) + "]";
      if (run.runner == RunnerKind::kPytest) ListTests(run);
      std::set<std::string> listed(run.listed.begin(), run.listed.end());
      std::vector<std::string> ids;
      std::unordered_map<std::string, std::size_t> by_id;
      for (std::size_t k : failing) {
        std::string id = SelectionId(run.runner, report_.cases[k], run.cwd);
        if (run.have_list && listed.count(id) == 0) {
          io_.Warn("unit-test: cannot retry " + report_.cases[k].Id() + ": " +
                   RunnerName(run.runner) + " does not list \"" + id + "\"");
          gave_up_.insert(k);
          continue;
        }
        if (by_id.emplace(id, k).second) ids.push_back(id);
      }
      if (ids.empty()) continue;
      any = true;
      std::sort(ids.begin(), ids.end());
      char temp[] = "/tmp/stagehost-unit-test-XXXXXX";
      std::string tmpdir = EnvValue(input_.env, "TMPDIR");
      std::string pattern =
          (tmpdir.empty() ? std::string("/tmp") : tmpdir) + "/stagehost-unit-test-XXXXXX";
      std::vector<char> buffer(pattern.begin(), pattern.end());
      buffer.push_back('\0');
      const char* dir = ::mkdtemp(buffer.data());
      if (dir == nullptr) dir = ::mkdtemp(temp);
      if (dir == nullptr) throw std::runtime_error("mkdtemp failed");
      std::string report_path = std::string(dir) + "/rerun.xml";
      std::vector<std::string> argv =
          SelectArgv(run.runner, run.config->argv, ids, run.listed, report_path);
      io_.Info("unit-test: retry " + std::to_string(attempt) + "/" +
               std::to_string(config_.retries) + " of " + std::to_string(ids.size()) +
               " failed tests: $ " + Quote(argv));
      CommandResult result = Spawn(run, argv, config_.stream_output, 64 * 1024);
      Report rerun;
      std::error_code ec;
      try {
        ReadJUnitFile(report_path, where + " retry " + std::to_string(attempt), rerun);
      } catch (const UsageError& e) {
        io_.Warn(std::string("unit-test: retry gave no usable report (") +
                 result.Describe(run.config->timeout_seconds) + "): " + e.what());
        for (std::size_t k : failing) gave_up_.insert(k);
        fs::remove_all(dir, ec);
        continue;
      }
      fs::remove_all(dir, ec);
      std::unordered_map<std::string, const TestCase*> outcome;
      for (const TestCase& tc : rerun.cases) {
        outcome.emplace(SelectionId(run.runner, tc, run.cwd), &tc);
      }
      for (const auto& [id, k] : by_id) {
        TestCase& tc = report_.cases[k];
        auto it = outcome.find(id);
        if (it == outcome.end()) {
          io_.Warn("unit-test: retry of " + tc.Id() + " did not report it; not retried again");
          gave_up_.insert(k);
          continue;
        }
        const TestCase& again = *it->second;
        if (again.verdict == Verdict::kSkipped) {
          gave_up_.insert(k);
          continue;
        }
        if (again.verdict == Verdict::kPassed) {
          // Flaky: the first failure and the failed reruns become flakyFailure/flakyError.
          Attempt first{tc.verdict == Verdict::kError,
                        tc.message,
                        tc.type,
                        tc.body,
                        tc.system_out,
                        tc.system_err,
                        tc.time};
          tc.flaky.push_back(first);
          for (const Attempt& a : tc.reruns) tc.flaky.push_back(a);
          tc.reruns.clear();
          tc.verdict = Verdict::kPassed;
          tc.message = tc.type = tc.body = {};
          tc.system_out = again.system_out;
          tc.system_err = again.system_err;
          tc.time = again.time;
          io_.Warn("unit-test: FLAKY " + tc.Id() + ": passed on retry " + std::to_string(attempt));
        } else {
          tc.reruns.push_back(Attempt{again.verdict == Verdict::kError, again.message, again.type,
                                      again.body, again.system_out, again.system_err, again.time});
        }
      }
      report_.arena.Absorb(std::move(rerun.arena));
    }
    return any;
  }

  // ---- verdict -------------------------------------------------------------------------------

  StageResult Finish() {
    FillEmptyFailures(report_, config_.failure_tail_bytes);
    MakeIdsUnique(report_);
    MarkQuarantined(report_, quarantine_);
    StageResult result;
    result.counts = CountCases(report_.cases);
    const Counts& c = result.counts;
    std::size_t executed = c.passed + c.failed + c.errors + c.quarantined;

    std::vector<std::string> reasons;
    if (c.failed + c.errors > 0) {
      reasons.push_back(std::to_string(c.failed) + " failed, " + std::to_string(c.errors) +
                        " errors");
    }
    if (!missing_report_failure_.empty()) reasons.push_back(missing_report_failure_);
    bool all_empty_shards =
        !commands_.empty() && std::all_of(commands_.begin(), commands_.end(),
                                          [](const CommandRun& r) { return r.empty_shard; });
    if (executed < config_.min_tests && !all_empty_shards) {
      reasons.push_back("only " + std::to_string(executed) + " tests executed, min_tests is " +
                        std::to_string(config_.min_tests));
    }
    for (const CommandRun& run : commands_) {
      if (!run.ran || run.result.ok()) continue;
      std::string where = "commands[" + std::to_string(run.index) + "]";
      std::string how = run.result.Describe(run.config->timeout_seconds);
      if (run.result.timed_out || run.result.deadline || !run.result.exited) {
        reasons.push_back(where + " " + how);
        continue;
      }
      // A non-zero exit is explained by the tests it reported failing (quarantined ones too,
      // and ones that passed on retry); otherwise something else broke.
      bool explained = false;
      for (std::size_t k = 0; k < report_.cases.size() && !explained; ++k) {
        const TestCase& tc = report_.cases[k];
        bool mine = case_command_[k] == static_cast<int>(run.index) || case_command_[k] == -1;
        explained = mine && (tc.failing() || !tc.flaky.empty());
      }
      if (!explained && missing_report_failure_.empty()) {
        reasons.push_back(where + " " + how + " but its report shows no failing test");
        io_.Error("unit-test: " + where + " " + how + "; the last of its output:\n" +
                  std::string(Tail(run.result.tail, 2000)));
      }
    }

    Summary(c);
    WriteReport(result);
    for (const std::string& note : report_.notes) io_.Warn("unit-test: note: " + note);

    result.passed = reasons.empty();
    std::string counts = std::to_string(c.tests) + " tests: " + std::to_string(c.passed) +
                         " passed, " + std::to_string(c.failed) + " failed, " +
                         std::to_string(c.errors) + " errors, " + std::to_string(c.skipped) +
                         " skipped, " + std::to_string(c.flaky) + " flaky, " +
                         std::to_string(c.quarantined) + " quarantined";
    if (result.passed) {
      result.reason = counts;
    } else {
      std::string joined;
      for (const std::string& r : reasons) joined += (joined.empty() ? "" : "; ") + r;
      result.reason = joined + " (" + counts + ")";
    }
    result.outputs = {
        {"tests", std::to_string(c.tests)},
        {"passed", std::to_string(c.passed)},
        {"failed", std::to_string(c.failed)},
        {"errors", std::to_string(c.errors)},
        {"skipped", std::to_string(c.skipped)},
        {"flaky", std::to_string(c.flaky)},
        {"quarantined", std::to_string(c.quarantined)},
        {"report", "\"" + result.report_file + "\""},
    };
    return result;
  }

  void Summary(const Counts& c) {
    auto row = [&](const char* label, std::size_t n) {
      char line[64];
      std::snprintf(line, sizeof line, "  %-12s %8zu", label, n);
      io_.Info(line);
    };
    io_.Info("unit-test: summary (" + std::to_string(report_.sources.size()) + " reports, " +
             Fixed(c.time, 2) + " s of test time)");
    row("tests", c.tests);
    row("passed", c.passed);
    row("failed", c.failed);
    row("errors", c.errors);
    row("skipped", c.skipped);
    row("flaky", c.flaky);
    row("quarantined", c.quarantined);
    std::vector<const TestCase*> failing, slow;
    for (const TestCase& tc : report_.cases) {
      if (tc.failing()) failing.push_back(&tc);
      if (!tc.flaky.empty()) io_.Warn("unit-test: flaky: " + tc.Id());
      slow.push_back(&tc);
    }
    std::size_t shown = 0;
    for (const TestCase* tc : failing) {
      if (++shown > 20) {
        io_.Error("unit-test: ... and " + std::to_string(failing.size() - 20) + " more");
        break;
      }
      std::string line = std::string(tc->quarantined ? "QUARANTINED " : "") +
                         (tc->verdict == Verdict::kError ? "ERROR " : "FAILED ") + tc->Id();
      if (!tc->message.empty()) line += ": " + std::string(tc->message.substr(0, 200));
      std::size_t nl = line.find('\n');
      if (nl != std::string::npos) line.erase(nl);
      if (tc->quarantined) {
        io_.Warn("unit-test: " + line);
      } else {
        io_.Error("unit-test: " + line);
      }
    }
    std::size_t n = std::min(config_.slowest, slow.size());
    if (n == 0) return;
    std::partial_sort(slow.begin(), slow.begin() + static_cast<std::ptrdiff_t>(n), slow.end(),
                      [](const TestCase* a, const TestCase* b) {
                        if (a->time != b->time) return a->time > b->time;
                        return a->Id() < b->Id();
                      });
    io_.Info("unit-test: slowest tests:");
    for (std::size_t i = 0; i < n; ++i) {
      io_.Info("  " + Fixed(slow[i]->time, 3) + " s  " + slow[i]->Id());
    }
  }

  void WriteReport(StageResult& result) {
    std::error_code ec;
    fs::create_directories(input_.artifact_dir, ec);
    std::string path = (fs::path(input_.artifact_dir) / config_.output).string();
    double shrink = 1.0;
    for (int round = 0; round < 6; ++round) {
      WritePlan plan = ApplyLimits(report_, config_.limits, shrink);
      WriteStats stats = WriteJUnit(report_, plan, config_.report_name, path);
      if (config_.limits.max_report_bytes == 0 || stats.bytes <= config_.limits.max_report_bytes) {
        break;
      }
      // Escaping made the file bigger than estimated: tighten the budget and try again.
      shrink *= 1.0 +
                static_cast<double>(stats.bytes - config_.limits.max_report_bytes) /
                    static_cast<double>(config_.limits.max_report_bytes) +
                0.05;
    }
    result.report_file = config_.output;
    io_.Info("unit-test: JUnit report: " + path);
  }

  const Config& config_;
  const StageInput& input_;
  StageIo& io_;
  std::vector<std::string> quarantine_;
  ShardConfig shard_;
  Report durations_report_;
  fs::file_time_type start_;
  std::vector<CommandRun> commands_;
  Report report_;
  std::vector<int> case_command_;  // per case: index of the command it belongs to, or -1
  std::set<std::size_t> gave_up_;
  std::string missing_report_failure_;
};

}  // namespace

StageResult RunStage(const Config& config, const StageInput& input, StageIo& io) {
  return Stage(config, input, io).Run();
}

}  // namespace stagehost::unit_test
