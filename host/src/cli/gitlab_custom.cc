// `stagehost gitlab custom config|prepare|run|cleanup`: the GitLab Runner custom executor driver.
#include <fmt/format.h>

#include "cli/cancel_signals.h"
#include "cli/cli.h"
#include "gitlab/custom/driver.h"
#include "gitlab/custom/job_environment.h"

namespace stagehost::cli {
namespace {

struct CustomFlags {
  std::string config_file;
  std::string script;
  std::string substage;
};

// Loads the driver config, then runs `command`; a config problem is a system failure.
template <typename Command>
int WithDriverConfig(const CustomFlags& flags, Command command) {
  std::optional<std::filesystem::path> file;
  if (!flags.config_file.empty()) file = flags.config_file;
  Result<gitlab::DriverConfig> config = gitlab::LoadDriverConfig(file);
  if (!config.ok()) {
    fmt::print(stderr, "stagehost: {}\n", config.status().message());
    return gitlab::SystemFailureExitCode();
  }
  return command(*config);
}

}  // namespace

void RegisterGitlab(CLI::App& app, int& exit_code) {
  CLI::App* gitlab = app.add_subcommand("gitlab", "GitLab integrations");
  gitlab->require_subcommand(1);
  CLI::App* custom = gitlab->add_subcommand(
      "custom",
      "GitLab Runner custom executor driver: point [runners.custom] config_exec, prepare_exec, "
      "run_exec and cleanup_exec at these commands (see ci-templates/gitlab/runner/).");
  custom->require_subcommand(1);
  auto flags = std::make_shared<CustomFlags>();
  custom->add_option("--config", flags->config_file,
                     "Driver configuration (TOML); default $STAGEHOST_CUSTOM_CONFIG, then "
                     "/etc/stagehost/custom-executor.toml");

  custom->add_subcommand("config", "Print the JSON gitlab-runner reads (builds/cache dirs, driver)")
      ->callback(
          [flags, &exit_code] { exit_code = WithDriverConfig(*flags, gitlab::RunConfigCommand); });
  custom->add_subcommand("prepare", "Create the job's private directories, check bash and git")
      ->callback(
          [flags, &exit_code] { exit_code = WithDriverConfig(*flags, gitlab::RunPrepareCommand); });
  CLI::App* run = custom->add_subcommand(
      "run", "Run one sub-stage script; after build_script also the job's STAGEHOST_STAGE plugin");
  run->add_option("script", flags->script, "Script written by gitlab-runner")->required();
  run->add_option("substage", flags->substage, "Sub-stage name (build_script, after_script, ...)")
      ->required();
  run->callback([flags, &exit_code] {
    int cancel_fd = InstallCancelSignals();
    exit_code = WithDriverConfig(*flags, [&](const gitlab::DriverConfig& config) {
      return gitlab::RunRunCommand(config, flags->script, flags->substage, cancel_fd);
    });
  });
  custom->add_subcommand("cleanup", "Kill what is left of the job and remove its directories")
      ->callback([flags, &exit_code] {
        WithDriverConfig(*flags, gitlab::RunCleanupCommand);
        exit_code = 0;  // cleanup never fails the job; its problems are on stderr (runner log)
      });
  RegisterGitlabRunner(gitlab, exit_code);
}

}  // namespace stagehost::cli
