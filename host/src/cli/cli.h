// The command line: one Register* function per subcommand; RunCli parses and dispatches.
#pragma once

#include <CLI/CLI.hpp>

namespace stagehost::cli {

// Each Register* adds its subcommand to `app`; when the subcommand runs, its result is stored in
// `exit_code`.
void RegisterRun(CLI::App& app, int& exit_code);
void RegisterPlugins(CLI::App& app, int& exit_code);
void RegisterVersion(CLI::App& app, int& exit_code);
void RegisterGitlab(CLI::App& app, int& exit_code);
// `gitlab register` and `gitlab runner`, under the `gitlab` subcommand.
void RegisterGitlabRunner(CLI::App* gitlab, int& exit_code);
void RegisterJenkins(CLI::App& app, int& exit_code);

int RunCli(int argc, char** argv);

}  // namespace stagehost::cli
