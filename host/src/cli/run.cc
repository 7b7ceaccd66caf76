// `stagehost run STAGE`: runs one stage plugin on a workspace; exit 0 passed, 1 failed, 2 system
// failure.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "cli/cancel_signals.h"
#include "cli/cli.h"
#include "cli/plugin_flags.h"
#include "job/stage_runner.h"
#include "log/byte_sink.h"
#include "plugin/config_source.h"

extern char** environ;

namespace stagehost::cli {
namespace {

struct RunFlags {
  std::string stage;
  std::string plugin;
  std::string config;
  std::vector<std::string> sets;
  std::string workspace;
  std::string artifacts;
  double timeout_s = 0;
  double cancel_grace_s = 10;
  double kill_grace_s = 5;
  uint64_t log_limit = 100ull << 20;
  std::vector<std::string> mask_env;
  std::string masked_variables;  // STAGEHOST_MASKED_VARIABLES, comma-separated names
  bool in_process = false;
  uint32_t log_level = STAGEHOST_LEVEL_INFO;
  PluginFlags plugin_flags;
};

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

// Values of the named variables, which the masker hides in everything written.
std::vector<std::string> SecretValues(const RunFlags& flags) {
  std::vector<std::string> names = flags.mask_env;
  std::stringstream list(flags.masked_variables);
  for (std::string name; std::getline(list, name, ',');) {
    if (!name.empty()) names.push_back(name);
  }
  std::vector<std::string> values;
  for (const std::string& name : names) {
    const char* value = std::getenv(name.c_str());
    if (value != nullptr && *value != '\0') values.emplace_back(value);
  }
  return values;
}

int Run(const RunFlags& flags) {
  log::FdSink out(STDOUT_FILENO);
  log::FdSink err(STDERR_FILENO);
  Result<std::shared_ptr<const log::SecretMatcher>> secrets =
      log::SecretMatcher::Create(SecretValues(flags));
  if (!secrets.ok()) {
    fmt::print(stderr, "stagehost: {}\n", secrets.status().message());
    return kExitSystemFailure;
  }
  StageLog log(*secrets, &out, flags.log_limit, &err);
  auto fail = [&](StageStatus status, const std::string& message) {
    log.Message(message);
    log.Close();
    return ExitCodeFor(status);
  };

  StageRunOptions options;
  options.stage = flags.stage;
  if (!flags.plugin.empty()) options.plugin = flags.plugin;
  if (!flags.config.empty()) {
    Result<nlohmann::json> config = LoadConfig(flags.config);
    if (!config.ok())
      return fail(StageStatus::kBadConfig, "--config: " + config.status().message());
    options.config = std::move(config).value();
  }
  // STAGEHOST_SET (how a CI variable or component input sets keys) first, so a --set flag wins.
  if (const char* lines = std::getenv("STAGEHOST_SET")) {
    if (Status applied = ApplyOverrideLines(options.config, lines); !applied.ok()) {
      return fail(StageStatus::kBadConfig, applied.message());
    }
  }
  for (const std::string& assignment : flags.sets) {
    if (Status applied = ApplyOverride(options.config, assignment); !applied.ok()) {
      return fail(StageStatus::kBadConfig, applied.message());
    }
  }
  Result<CatalogOptions> catalog = MakeCatalogOptions(flags.plugin_flags);
  if (!catalog.ok()) return fail(StageStatus::kHostError, catalog.status().message());
  options.catalog = std::move(catalog).value();
  options.workspace = flags.workspace;
  options.artifact_dir = flags.artifacts;
  // Under Jenkins (JENKINS_URL or BUILD_URL, and WORKSPACE set by the agent) reports default to
  // where ci-templates/jenkins' steps collect them: $WORKSPACE/stagehost-reports/<stage>.
  auto set = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0';
  };
  if (flags.artifacts.empty() && set("WORKSPACE") && (set("JENKINS_URL") || set("BUILD_URL"))) {
    options.artifact_dir =
        std::filesystem::path(std::getenv("WORKSPACE")) / "stagehost-reports" / flags.stage;
  }
  options.timeout = Millis(flags.timeout_s);
  options.cancel_grace = Millis(flags.cancel_grace_s);
  options.kill_grace = Millis(flags.kill_grace_s);
  options.in_process = flags.in_process;
  options.max_log_level = flags.log_level;
  options.cancel_fd = InstallCancelSignals();
  for (char** entry = environ; *entry != nullptr; ++entry) options.env.emplace_back(*entry);

  StageReport report = RunStage(options, log);
  log.Close();
  return ExitCodeFor(report.status);
}

}  // namespace

void RegisterRun(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run one stage plugin on a workspace.\n"
      "The stage's log goes to stdout, stagehost's messages to stderr.\n"
      "Exit status: 0 passed; 1 stage failed (the project failed its checks, or timed out); 2 no "
      "verdict (invalid config or input, plugin refused or crashed, infrastructure, cancel, "
      "usage).");
  cmd->add_option("stage", flags->stage,
                  "Stage type (unit-test, model-validation, security-scan, deploy) or plugin name")
      ->envname("STAGEHOST_STAGE")
      ->required();
  cmd->add_option("--plugin", flags->plugin, "Plugin name, when several implement the stage");
  cmd->add_option("--config", flags->config, "Config: a JSON/YAML file, or inline JSON/YAML text")
      ->envname("STAGEHOST_CONFIG");
  cmd->add_option("--set", flags->sets,
                  "Override a config key: KEY=VALUE (dotted keys, JSON values). The variable "
                  "STAGEHOST_SET holds more, one per line; --set wins over it");
  cmd->add_option("--workspace", flags->workspace,
                  "Project directory (default: current directory)");
  cmd->add_option("--artifacts", flags->artifacts,
                  "Directory for reports (default: <workspace>/stagehost-reports/<plugin>)");
  cmd->add_option("--timeout", flags->timeout_s,
                  "Stop the stage after this many seconds (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cancel-grace", flags->cancel_grace_s,
                  "Seconds between a cancel request and SIGTERM to the plugin (default 10)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--kill-grace", flags->kill_grace_s,
                  "Seconds between SIGTERM and SIGKILL (default 5)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option(
      "--log-limit", flags->log_limit,
      "Maximum bytes of stage log; the rest is dropped with a notice (default 100 MiB)");
  cmd->add_option("--mask-env", flags->mask_env,
                  "Name of an environment variable whose value is masked in all output");
  cmd->add_option("--masked-variables", flags->masked_variables,
                  "Comma-separated names of variables to mask")
      ->envname("STAGEHOST_MASKED_VARIABLES");
  cmd->add_option("--log-level", flags->log_level,
                  "Most detailed plugin log level shown (default info)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, uint32_t>{{"error", STAGEHOST_LEVEL_ERROR},
                                          {"warning", STAGEHOST_LEVEL_WARNING},
                                          {"info", STAGEHOST_LEVEL_INFO},
                                          {"debug", STAGEHOST_LEVEL_DEBUG}},
          CLI::ignore_case))
      ->option_text("error|warning|info|debug")
      ->envname("STAGEHOST_LOG_LEVEL");
  cmd->add_flag("--in-process", flags->in_process,
                "Debugging only: load the plugin into stagehost itself. A crash or hang of the "
                "plugin then takes stagehost down, and cancel/timeout can only ask it to stop.");
  AddPluginFlags(cmd, flags->plugin_flags);
  cmd->callback([flags, &exit_code] { exit_code = Run(*flags); });
}

}  // namespace stagehost::cli
