// FetchSources: init/fetch/checkout/clean/submodules with the git CLI, credentials kept off argv.
#include "gitlab/runner/git_sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <system_error>

#include "gitlab/runner/job_payload.h"
#include "util/child_process.h"

extern char** environ;

namespace stagehost::gitlab {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMask = "[MASKED]";
constexpr size_t kErrorTailBytes = 2048;

std::string Notice(std::string_view text) { return fmt::format("\x1b[32;1m{}\x1b[0;m\n", text); }

std::string Variable(const GitSourcesRequest& request, const std::string& key,
                     const std::string& fallback) {
  auto it = request.variables.find(key);
  return it == request.variables.end() ? fallback : it->second;
}

// strconv.ParseBool, which gitlab-runner uses for GIT_CHECKOUT.
Result<bool> ParseBool(const std::string& key, const std::string& text) {
  static const char* kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char* kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (const char* t : kTrue)
    if (text == t) return true;
  for (const char* f : kFalse)
    if (text == f) return false;
  return InvalidConfig(fmt::format("{}: \"{}\" is not a boolean", key, text));
}

Result<int> ParseDepth(const std::string& key, const std::string& text) {
  int value = 0;
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return InvalidConfig(fmt::format("{}: \"{}\" is not a depth (a whole number >= 0)", key, text));
  }
  for (char c : text) value = value * 10 + (c - '0');
  return value;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// Replaces every secret in `text`; secrets are few and short, so plain search is enough.
std::string MaskSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + kMask.size())) {
      text.replace(pos, secret.size(), kMask);
    }
  }
  return text;
}

enum class Submodules { kNone, kNormal, kRecursive };

// Everything decided before the first git command runs.
struct Plan {
  GitStrategy strategy = GitStrategy::kFetch;
  bool empty_strategy = false;  // GIT_STRATEGY=empty: wipe, fetch nothing
  int depth = 0;
  int submodule_depth = 0;
  Submodules submodules = Submodules::kNone;
  bool checkout = true;
  std::vector<std::string> clean_flags;  // empty = no clean
  std::string url;                       // without credentials
  std::string sha;
  std::string ref;
  std::vector<std::string> refspecs;
  bool sha256 = false;
  std::vector<std::string> env;
  std::vector<std::string> secrets;
};

std::string JsonString(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The scheme://host[:port] a credential helper is scoped to, or "" when the URL has none.
std::string CredentialContext(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  size_t host_start = scheme_end + 3;
  size_t host_end = url.find('/', host_start);
  return url.substr(0, host_end == std::string::npos ? url.size() : host_end);
}

// The git processes' environment: the base one without variables that would point git at
// another repository, prompts off, and for http(s) credentials a helper scoped to origin's host.
// The helper's text names the environment variables only; their values live in this
// environment, so neither argv nor any config file ever holds the token.
std::vector<std::string> GitEnv(const GitSourcesRequest& request, const Plan& plan,
                                const std::string& user, const std::string& password) {
  std::vector<std::string> env;
  if (request.base_env.empty()) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  } else {
    env = request.base_env;
  }
  int config_count = 0;
  static const std::string_view kDropped[] = {"GIT_DIR=",
                                              "GIT_WORK_TREE=",
                                              "GIT_INDEX_FILE=",
                                              "GIT_TERMINAL_PROMPT=",
                                              "GIT_LFS_SKIP_SMUDGE=",
                                              "GIT_ASKPASS="};
  std::erase_if(env, [&](const std::string& entry) {
    if (entry.starts_with("GIT_CONFIG_COUNT=")) {
      config_count = std::atoi(entry.c_str() + 17);
      return true;
    }
    return std::any_of(std::begin(kDropped), std::end(kDropped),
                       [&](std::string_view p) { return entry.starts_with(p); });
  });
  env.push_back("GIT_TERMINAL_PROMPT=0");
  // Without a terminal git would fall back to ssh-askpass and friends: `true` answers nothing.
  env.push_back("GIT_ASKPASS=true");
  auto lfs = request.variables.find("GIT_LFS_SKIP_SMUDGE");
  if (lfs != request.variables.end()) env.push_back("GIT_LFS_SKIP_SMUDGE=" + lfs->second);
  std::string context = CredentialContext(plan.url);
  bool http = plan.url.starts_with("http://") || plan.url.starts_with("https://");
  if (http && !password.empty() && !context.empty()) {
    env.push_back("STAGEHOST_GIT_USERNAME=" + user);
    env.push_back("STAGEHOST_GIT_PASSWORD=" + password);
    auto add = [&](const std::string& key, const std::string& value) {
      env.push_back(fmt::format("GIT_CONFIG_KEY_{}={}", config_count, key));
      env.push_back(fmt::format("GIT_CONFIG_VALUE_{}={}", config_count, value));
      ++config_count;
    };
    // An empty value first drops helpers configured elsewhere for this host (a stored password
    // would otherwise win over the job token). Scoped to origin's host: a submodule on another
    // host never receives the token.
    add("credential." + context + ".helper", "");
    add("credential." + context + ".helper",
        "!f() { test \"$1\" = get || exit 0; echo \"username=${STAGEHOST_GIT_USERNAME}\"; "
        "echo \"password=${STAGEHOST_GIT_PASSWORD}\"; }; f");
  }
  if (config_count > 0) env.push_back(fmt::format("GIT_CONFIG_COUNT={}", config_count));
  return env;
}

Result<Plan> MakePlan(const GitSourcesRequest& request) {
  Plan plan;
  std::string strategy = Variable(request, "GIT_STRATEGY", "");
  if (strategy.empty() || strategy == "fetch") {
    plan.strategy = GitStrategy::kFetch;
  } else if (strategy == "clone") {
    plan.strategy = GitStrategy::kClone;
  } else if (strategy == "none") {
    plan.strategy = GitStrategy::kNone;
  } else if (strategy == "empty") {
    plan.strategy = GitStrategy::kNone;
    plan.empty_strategy = true;
  } else {
    return InvalidConfig(
        fmt::format("GIT_STRATEGY: \"{}\" is not one of fetch, clone, none, empty", strategy));
  }

  const nlohmann::json& info = request.git_info;
  if (info.is_object() && info.contains("depth") && info["depth"].is_number_integer()) {
    plan.depth = std::max(0, info["depth"].get<int>());
  }
  std::string depth = Variable(request, "GIT_DEPTH", "");
  if (!depth.empty()) {
    STAGEHOST_ASSIGN_OR_RETURN(plan.depth, ParseDepth("GIT_DEPTH", depth));
  }
  std::string submodule_depth = Variable(request, "GIT_SUBMODULE_DEPTH", "");
  if (!submodule_depth.empty()) {
    STAGEHOST_ASSIGN_OR_RETURN(plan.submodule_depth,
                               ParseDepth("GIT_SUBMODULE_DEPTH", submodule_depth));
  }

  std::string submodules = Variable(request, "GIT_SUBMODULE_STRATEGY", "none");
  if (submodules.empty() || submodules == "none") {
    plan.submodules = Submodules::kNone;
  } else if (submodules == "normal") {
    plan.submodules = Submodules::kNormal;
  } else if (submodules == "recursive") {
    plan.submodules = Submodules::kRecursive;
  } else {
    return InvalidConfig(fmt::format(
        "GIT_SUBMODULE_STRATEGY: \"{}\" is not one of none, normal, recursive", submodules));
  }

  std::string checkout = Variable(request, "GIT_CHECKOUT", "");
  if (!checkout.empty()) {
    STAGEHOST_ASSIGN_OR_RETURN(plan.checkout, ParseBool("GIT_CHECKOUT", checkout));
  }
  std::string clean = Variable(request, "GIT_CLEAN_FLAGS", "-ffdx");
  if (clean != "none") plan.clean_flags = SplitWords(clean);

  std::string user, password;
  plan.url = StripUrlCredentials(JsonString(info, "repo_url"), &user, &password);
  plan.sha = JsonString(info, "sha");
  plan.ref = JsonString(info, "ref");
  plan.sha256 = JsonString(info, "repo_object_format") == "sha256";
  if (info.is_object() && info.contains("refspecs") && info["refspecs"].is_array()) {
    for (const nlohmann::json& spec : info["refspecs"]) {
      if (spec.is_string() && !spec.get<std::string>().empty()) {
        plan.refspecs.push_back(spec.get<std::string>());
      }
    }
  }
  if (plan.refspecs.empty()) {
    // gitlab-runner's defaults when GitLab sends none.
    plan.refspecs = {"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"};
  }
  if (plan.strategy != GitStrategy::kNone) {
    if (plan.url.empty()) return InvalidConfig("git_info.repo_url is missing");
    if (plan.checkout && plan.sha.empty()) return InvalidConfig("git_info.sha is missing");
  }
  plan.secrets = {request.job_token, password};
  plan.env = GitEnv(request, plan, user, password);
  return plan;
}

// Runs git commands in one directory, streaming masked output line by line to the log.
class GitRunner {
 public:
  GitRunner(const Plan& plan, const GitSourcesRequest& request,
            const std::function<void(std::string_view)>& log, int cancel_fd)
      : plan_(plan), request_(request), log_(log), cancel_fd_(cancel_fd) {}

  // Runs `git args…` in `cwd`; on success returns its (masked) output.
  Result<std::string> Run(std::vector<std::string> args, const fs::path& cwd, bool quiet = false) {
    args.insert(args.begin(), "git");
    ChildOptions options;
    options.argv = args;
    options.env = plan_.env;
    options.cwd = cwd.string();
    std::string output, pending;
    auto on_output = [&](std::string_view chunk) {
      pending.append(chunk);
      // Whole lines only, so a secret split across two reads is still masked.
      size_t end = pending.rfind('\n');
      if (end == std::string::npos) return;
      std::string lines = MaskSecrets(pending.substr(0, end + 1), plan_.secrets);
      pending.erase(0, end + 1);
      output += lines;
      if (!quiet && log_) log_(lines);
    };
    Result<ChildExit> exit = RunChild(options, on_output, cancel_fd_, request_.kill_grace);
    if (!pending.empty()) {
      std::string rest = MaskSecrets(pending, plan_.secrets) + "\n";
      output += rest;
      if (!quiet && log_) log_(rest);
    }
    std::string command = MaskSecrets(Join(args), plan_.secrets);
    if (!exit.ok()) return exit.status().WithContext(fmt::format("running `{}`", command));
    if (exit->stopped) return Cancelled(fmt::format("`{}` was stopped", command));
    int code = ShellExitCode(exit->wait_status);
    if (code != 0) {
      std::string tail = output.size() > kErrorTailBytes
                             ? "…" + output.substr(output.size() - kErrorTailBytes)
                             : output;
      while (!tail.empty() && std::isspace(static_cast<unsigned char>(tail.back())))
        tail.pop_back();
      return Unavailable(fmt::format("`{}` failed with exit code {}{}{}", command, code,
                                     tail.empty() ? "" : ": ", tail));
    }
    return output;
  }

 private:
  static std::string Join(const std::vector<std::string>& args) {
    std::string text;
    for (const std::string& a : args) text += (text.empty() ? "" : " ") + a;
    return text;
  }

  const Plan& plan_;
  const GitSourcesRequest& request_;
  const std::function<void(std::string_view)>& log_;
  int cancel_fd_;
};

Status EmptyDirectory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::Ok();
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    fs::remove_all(entry.path(), ec);
    if (ec) return ErrnoStatus("removing " + entry.path().string(), ec.value());
  }
  if (ec) return ErrnoStatus("listing " + dir.string(), ec.value());
  return Status::Ok();
}

// Lock files a git process killed mid-way leaves behind; any of them stops the next fetch.
void RemoveStaleLocks(const fs::path& git_dir) {
  std::error_code ec;
  for (const char* name : {"index.lock", "shallow.lock", "HEAD.lock", "config.lock"}) {
    fs::remove(git_dir / name, ec);
  }
  fs::path refs = git_dir / "refs";
  if (!fs::exists(refs, ec)) return;
  std::vector<fs::path> locks;
  for (auto it = fs::recursive_directory_iterator(refs, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->path().extension() == ".lock") locks.push_back(it->path());
  }
  for (const fs::path& lock : locks) fs::remove(lock, ec);
}

}  // namespace

std::string StripUrlCredentials(const std::string& url, std::string* user, std::string* password) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  size_t authority = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority);
  if (authority_end == std::string::npos) authority_end = url.size();
  size_t at = url.rfind('@', authority_end - 1);
  if (at == std::string::npos || at < authority) return url;
  std::string userinfo = url.substr(authority, at - authority);
  size_t colon = userinfo.find(':');
  if (user != nullptr) *user = userinfo.substr(0, colon);
  if (password != nullptr) *password = colon == std::string::npos ? "" : userinfo.substr(colon + 1);
  return url.substr(0, authority) + url.substr(at + 1);
}

GitSourcesRequest MakeGitSourcesRequest(const JobPayload& job, fs::path project_dir) {
  GitSourcesRequest request;
  request.project_dir = std::move(project_dir);
  request.git_info = job.git_info;
  for (const PayloadVariable& v : job.variables) request.variables[v.key] = v.value;
  request.job_token = job.token;
  return request;
}

Result<SourcesReport> FetchSources(const GitSourcesRequest& request,
                                   const std::function<void(std::string_view)>& log,
                                   int cancel_fd) {
  auto say = [&](std::string_view text) {
    if (log) log(Notice(text));
  };
  STAGEHOST_ASSIGN_OR_RETURN(Plan plan, MakePlan(request));
  SourcesReport report;
  report.strategy = plan.strategy;
  report.depth = plan.depth;
  const fs::path& dir = request.project_dir;
  if (dir.empty()) return InvalidArgument("FetchSources: no project directory");

  if (plan.strategy == GitStrategy::kNone) {
    if (plan.empty_strategy) {
      STAGEHOST_RETURN_IF_ERROR(EmptyDirectory(dir));
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) return ErrnoStatus("creating " + dir.string(), ec.value());
      say("Skipping Git repository setup and creating an empty build directory");
    } else {
      say("Skipping Git repository setup");
    }
    return report;
  }

  GitRunner git(plan, request, log, cancel_fd);
  if (plan.strategy == GitStrategy::kClone) STAGEHOST_RETURN_IF_ERROR(EmptyDirectory(dir));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus("creating " + dir.string(), ec.value());

  say(plan.depth > 0 ? fmt::format("Fetching changes with git depth set to {}...", plan.depth)
                     : std::string("Fetching changes..."));
  fs::path git_dir = dir / ".git";
  if (fs::is_directory(git_dir, ec)) {
    RemoveStaleLocks(git_dir);
    // gitlab-runner runs `git init` here too: it prints "Reinitialized existing…" and repairs a
    // half-made repository.
    STAGEHOST_ASSIGN_OR_RETURN(std::string ignored, git.Run({"init"}, dir));
  } else {
    std::vector<std::string> init = {"init"};
    if (plan.sha256) init.push_back("--object-format=sha256");
    STAGEHOST_ASSIGN_OR_RETURN(std::string ignored, git.Run(init, dir));
    report.fresh_repository = true;
    say("Created fresh repository.");
  }
  // The URL without credentials: .git/config never holds the token.
  STAGEHOST_ASSIGN_OR_RETURN(std::string set_url,
                             git.Run({"config", "remote.origin.url", plan.url}, dir));

  std::vector<std::string> fetch = {"fetch", "origin", "--prune"};
  if (plan.depth > 0) {
    fetch.push_back("--depth");
    fetch.push_back(std::to_string(plan.depth));
  } else if (fs::exists(git_dir / "shallow", ec)) {
    // A full fetch into a shallow repository would stay shallow.
    fetch.push_back("--unshallow");
  }
  fetch.insert(fetch.end(), plan.refspecs.begin(), plan.refspecs.end());
  STAGEHOST_ASSIGN_OR_RETURN(std::string fetched, git.Run(fetch, dir));

  if (!plan.checkout) {
    say("Skipping Git checkout");
  } else {
    say(fmt::format("Checking out {} as detached HEAD (ref is {})...", plan.sha.substr(0, 8),
                    plan.ref.empty() ? plan.sha.substr(0, 8) : plan.ref));
    STAGEHOST_ASSIGN_OR_RETURN(std::string checked,
                               git.Run({"checkout", "-f", "-q", plan.sha}, dir));
    report.checked_out = true;
    if (!plan.clean_flags.empty()) {
      std::vector<std::string> clean = {"clean"};
      clean.insert(clean.end(), plan.clean_flags.begin(), plan.clean_flags.end());
      STAGEHOST_ASSIGN_OR_RETURN(std::string cleaned, git.Run(clean, dir));
    }
  }

  if (plan.submodules == Submodules::kNone || !plan.checkout) {
    say("Skipping Git submodules setup");
  } else {
    bool recursive = plan.submodules == Submodules::kRecursive;
    say(recursive ? "Updating/initializing submodules recursively..."
                  : "Updating/initializing submodules...");
    std::vector<std::string> sync = {"submodule", "sync"};
    std::vector<std::string> update = {"submodule", "update", "--init"};
    std::vector<std::string> foreach = {"submodule", "foreach"};
    if (recursive) {
      sync.push_back("--recursive");
      update.push_back("--recursive");
      foreach
        .push_back("--recursive");
    }
    if (plan.submodule_depth > 0) {
      update.push_back("--depth");
      update.push_back(std::to_string(plan.submodule_depth));
    }
    STAGEHOST_ASSIGN_OR_RETURN(std::string synced, git.Run(sync, dir));
    STAGEHOST_ASSIGN_OR_RETURN(std::string updated, git.Run(update, dir));
    if (!plan.clean_flags.empty()) {
      std::string clean = "git clean";
      for (const std::string& flag : plan.clean_flags) clean += " " + flag;
      foreach
        .push_back(clean);
      STAGEHOST_ASSIGN_OR_RETURN(std::string cleaned, git.Run(foreach, dir, /*quiet=*/true));
    }
  }

  if (report.checked_out) {
    STAGEHOST_ASSIGN_OR_RETURN(std::string head, git.Run({"rev-parse", "HEAD"}, dir, true));
    while (!head.empty() && std::isspace(static_cast<unsigned char>(head.back()))) head.pop_back();
    report.sha = head;
  }
  return report;
}

}  // namespace stagehost::gitlab
