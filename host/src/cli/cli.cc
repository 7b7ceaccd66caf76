// Parses argv and dispatches to the subcommand; usage errors exit 2 (system failure).
#include "cli/cli.h"

#include <fmt/format.h>

#include "job/stage_outcome.h"

namespace stagehost::cli {

int RunCli(int argc, char** argv) {
  CLI::App app{"stagehost: stage plugins for existing CI engines (GitLab, Jenkins, local runs)",
               "stagehost"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  int exit_code = kExitSystemFailure;
  RegisterRun(app, exit_code);
  RegisterPlugins(app, exit_code);
  RegisterGitlab(app, exit_code);
  RegisterJenkins(app, exit_code);
  RegisterVersion(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitSystemFailure;
  }
  return exit_code;
}

}  // namespace stagehost::cli
