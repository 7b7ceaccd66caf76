// `stagehost gitlab register` and `stagehost gitlab runner`: the native GitLab runner.
#include <fmt/format.h>

#include "cli/cli.h"
#include "gitlab/runner/api_client.h"
#include "gitlab/runner/runner_config.h"
#include "gitlab/runner/runner_loop.h"

namespace stagehost::cli {
namespace {

namespace fs = std::filesystem;

struct RegisterFlags {
  std::string url;
  std::string token;
  std::string config;
  std::string name;
  uint64_t limit = 0;
  uint64_t output_limit_kib = 4096;
  uint64_t request_concurrency = 1;
  std::string builds_dir;
  std::string tls_ca_file;
};

int Register(const RegisterFlags& flags) {
  if (flags.token.rfind("glrt-", 0) != 0) {
    fmt::print(stderr,
               "stagehost: --token must be a runner authentication token (glrt-…), created in "
               "GitLab under Settings > CI/CD > Runners; legacy registration tokens are not "
               "supported\n");
    return 2;
  }
  if (flags.url.rfind("http://", 0) != 0 && flags.url.rfind("https://", 0) != 0) {
    fmt::print(stderr, "stagehost: --url must start with http:// or https://\n");
    return 2;
  }
  fs::path config =
      flags.config.empty() ? gitlab::DefaultRunnerConfigPath() : fs::path(flags.config);
  std::error_code ec;
  fs::create_directories(fs::absolute(config).parent_path(), ec);
  net::ClientOptions client;
  client.ca_file = flags.tls_ca_file;
  gitlab::GitLabApi api(flags.url, client, std::chrono::seconds(30));
  std::string system_id =
      gitlab::SystemId((fs::absolute(config).parent_path() / ".runner_system_id").string());
  Result<net::Response> answer = api.VerifyRunner(flags.token, system_id);
  if (!answer.ok()) {
    fmt::print(stderr, "stagehost: cannot reach GitLab at {}: {}\n", flags.url,
               answer.status().message());
    return 2;
  }
  if (answer->status == 403) {
    fmt::print(stderr,
               "stagehost: GitLab refused the runner token (403): it is invalid, expired or the "
               "runner was deleted\n");
    return 2;
  }
  if (answer->status == 422) {
    fmt::print(stderr, "stagehost: GitLab says the runner is orphaned (422); create it again\n");
    return 2;
  }
  if (answer->status != 200) {
    fmt::print(stderr, "stagehost: runners/verify answered {}\n", answer->status);
    return 2;
  }
  gitlab::RunnerEntry entry;
  entry.url = flags.url;
  entry.token = flags.token;
  // Older GitLab answers a bare "200"; newer ones the runner's id, token and expiry.
  nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
  if (body.is_object()) {
    if (body.contains("id") && body["id"].is_number_integer()) entry.id = body["id"].get<int64_t>();
    if (body.contains("token") && body["token"].is_string() &&
        !body["token"].get<std::string>().empty()) {
      entry.token = body["token"].get<std::string>();
    }
    if (body.contains("token_expires_at") && body["token_expires_at"].is_string()) {
      entry.token_expires_at = body["token_expires_at"].get<std::string>();
    }
  }
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  entry.name = flags.name.empty() ? std::string(host) : flags.name;
  entry.limit = flags.limit;
  entry.output_limit_kib = flags.output_limit_kib;
  entry.request_concurrency = flags.request_concurrency;
  if (!flags.builds_dir.empty()) entry.builds_dir = fs::absolute(flags.builds_dir);
  if (!flags.tls_ca_file.empty()) entry.tls_ca_file = fs::absolute(flags.tls_ca_file);
  if (Status saved = gitlab::AddRunnerToConfig(config, entry); !saved.ok()) {
    fmt::print(stderr, "stagehost: {}\n", saved.message());
    return 2;
  }
  fmt::print(stderr, "stagehost: runner {} ({}) verified at {}; configuration written to {}\n",
             entry.id, entry.name, entry.url, config.string());
  return 0;
}

}  // namespace

void RegisterGitlabRunner(CLI::App* gitlab, int& exit_code) {
  auto flags = std::make_shared<RegisterFlags>();
  CLI::App* reg = gitlab->add_subcommand(
      "register",
      "Verify a runner authentication token (glrt-…) with GitLab and add the runner to the "
      "native runner's config.toml (mode 0600). The token is never printed.");
  reg->add_option("--url", flags->url, "GitLab URL, e.g. https://gitlab.example.com")->required();
  reg->add_option("--token", flags->token, "Runner authentication token (glrt-…)")->required();
  reg->add_option(
      "--config", flags->config,
      "Configuration file; default $STAGEHOST_RUNNER_CONFIG, /etc/stagehost/config.toml "
      "(root) or ~/.stagehost/config.toml");
  reg->add_option("--name", flags->name, "Runner name shown in job logs (default: host name)");
  reg->add_option("--limit", flags->limit, "Jobs at once for this runner (0 = concurrent only)");
  reg->add_option("--output-limit", flags->output_limit_kib, "Job log limit in KiB")
      ->default_val(4096);
  reg->add_option("--request-concurrency", flags->request_concurrency,
                  "Job requests in flight at once")
      ->default_val(1);
  reg->add_option("--builds-dir", flags->builds_dir,
                  "Where jobs run (default: builds/ beside the configuration)");
  reg->add_option("--tls-ca-file", flags->tls_ca_file, "CA bundle that signs GitLab's certificate");
  reg->callback([flags, &exit_code] { exit_code = Register(*flags); });

  auto config_file = std::make_shared<std::string>();
  auto once = std::make_shared<bool>(false);
  CLI::App* runner = gitlab->add_subcommand(
      "runner",
      "Run the native GitLab runner: poll GitLab for jobs and run them here, with live logs.\n"
      "SIGQUIT: finish running jobs, then exit 0. SIGTERM/SIGINT: abort jobs and report them "
      "failed; a second one exits at once.");
  runner->add_option("--config", *config_file,
                     "Configuration file (see `register`); default as for register");
  runner->add_flag("--once", *once, "Exit after one job (exit 0 when its state was delivered)");
  runner->callback([config_file, once, &exit_code] {
    fs::path file =
        config_file->empty() ? gitlab::DefaultRunnerConfigPath() : fs::path(*config_file);
    Result<gitlab::RunnerConfig> config = gitlab::LoadRunnerConfig(file);
    if (!config.ok()) {
      fmt::print(stderr, "stagehost: {}\n", config.status().message());
      exit_code = 2;
      return;
    }
    gitlab::RunnerOptions options;
    options.once = *once;
    exit_code = gitlab::RunRunner(*config, options);
  });
}

}  // namespace stagehost::cli
