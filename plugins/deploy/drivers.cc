// drivers.cc -- nginx and command rollout drivers.
#include "drivers.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "http.h"
#include "process.h"

namespace stagehost::deploy {

namespace {

std::string Joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

// A rollback is not cancellable: a cancel that arrives during a rollout is what triggers it, and
// killing it would turn "rolled back" into "failed to roll back". command_timeout still bounds it.
void RunOrThrow(const DriverEnv& env, const std::string& what, const std::vector<std::string>& argv,
                bool cancellable = true) {
  env.log("  $ " + Joined(argv));
  CommandResult r = RunCommand(argv, env.env, std::chrono::milliseconds(env.command_timeout_ms),
                               cancellable ? env.cancelled : std::function<bool()>());
  if (!r.output.empty()) {
    std::string out = r.output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    env.log("    " + out);
  }
  if (!r.ok()) throw DriverError(what + " (" + Joined(argv) + "): " + r.Describe());
}

class CommandDriver : public Driver {
 public:
  CommandDriver(const CommandDriverConfig& config, const DriverEnv& env)
      : config_(config), env_(env) {}
  std::string name() const override { return "command"; }
  bool can_set_weight() const override { return !config_.set_weight.empty(); }

  void Apply(const TemplateVars& vars) override { Run("apply", config_.apply, vars); }
  void SetWeight(const TemplateVars& vars, int weight) override {
    if (config_.set_weight.empty()) return;
    TemplateVars v = vars;
    v["weight"] = std::to_string(weight);
    v["stable_weight"] = std::to_string(100 - weight);
    Run("set_weight", config_.set_weight, v);
  }
  void Promote(const TemplateVars& vars) override {
    if (!config_.promote.empty()) Run("promote", config_.promote, vars);
  }
  void Rollback(const TemplateVars& vars) override {
    Run("rollback", config_.rollback, vars, /*cancellable=*/false);
  }

 private:
  void Run(const std::string& what, const std::vector<std::string>& argv, TemplateVars vars,
           bool cancellable = true) {
    vars.try_emplace("weight", "");
    vars.try_emplace("stable_weight", "");
    RunOrThrow(env_, what, ExpandArgv(argv, vars), cancellable);
  }
  CommandDriverConfig config_;
  DriverEnv env_;
};

class NginxDriver : public Driver {
 public:
  NginxDriver(const NginxDriverConfig& config, const DriverEnv& env) : config_(config), env_(env) {}
  std::string name() const override { return "nginx"; }

  void Apply(const TemplateVars& vars) override {
    if (config_.apply_command.empty()) return;
    TemplateVars v = vars;
    v.try_emplace("weight", "0");
    v.try_emplace("stable_weight", "100");
    RunOrThrow(env_, "apply", ExpandArgv(config_.apply_command, v));
  }
  void SetWeight(const TemplateVars& vars, int weight) override {
    Write(vars.at("stable_address"), vars.at("candidate_address"), weight);
  }
  void Promote(const TemplateVars& vars) override {
    Write(vars.at("stable_address"), vars.at("candidate_address"), 100);
  }
  void Rollback(const TemplateVars& vars) override {
    Write(vars.at("stable_address"), vars.at("candidate_address"), 0, /*cancellable=*/false);
  }

 private:
  // Rewrites the upstream file (temp + rename), checks the configuration when a test command is
  // set (restoring the old file if it fails), reloads, waits for old workers to drain, confirms.
  void Write(const std::string& stable, const std::string& candidate, int weight,
             bool cancellable = true) {
    const std::string text = NginxUpstream(config_.upstream_name, stable, candidate, weight);
    std::string old;
    bool had_old = false;
    {
      std::ifstream in(config_.upstream_file);
      if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        old = ss.str();
        had_old = true;
      }
    }
    Replace(text);
    env_.log("  nginx: upstream " + config_.upstream_name + " -> " + std::to_string(100 - weight) +
             "% " + stable + ", " + std::to_string(weight) + "% " + candidate);
    if (!config_.test_command.empty()) {
      try {
        RunOrThrow(env_, "nginx configuration test", config_.test_command, cancellable);
      } catch (const DriverError&) {
        if (had_old) Replace(old);
        throw;
      }
    }
    RunOrThrow(env_, "nginx reload", config_.reload_command, cancellable);
    if (config_.settle_ms > 0 && cancellable) env_.sleep(config_.settle_ms);
    if (config_.settle_ms > 0 && !cancellable)
      std::this_thread::sleep_for(std::chrono::milliseconds(config_.settle_ms));
    if (!config_.confirm_url.empty()) {
      HttpRequest get;
      get.url = config_.confirm_url;
      get.timeout_ms = 5000;
      HttpResponse r = HttpCall(get);
      if (!r.ok())
        throw DriverError("nginx did not confirm after reload: " + RedactUrl(get.url) + ": " +
                          r.Describe());
    }
  }

  void Replace(const std::string& text) {
    const std::string tmp = config_.upstream_file + ".tmp-" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw DriverError("cannot write " + tmp + ": " + std::strerror(errno));
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), config_.upstream_file.c_str()) != 0) {
      ::unlink(tmp.c_str());
      throw DriverError("cannot replace " + config_.upstream_file + ": " + std::strerror(errno));
    }
  }

  NginxDriverConfig config_;
  DriverEnv env_;
};

}  // namespace

std::string NginxUpstream(const std::string& name, const std::string& stable,
                          const std::string& candidate, int candidate_weight) {
  std::string out = "# Written by the stagehost deploy plugin; replaced at every rollout step.\n";
  out += "upstream " + name + " {\n";
  // nginx has no weight=0: a server without traffic is left out.
  if (candidate_weight < 100) {
    out += "    server " + stable +
           (candidate_weight > 0 ? " weight=" + std::to_string(100 - candidate_weight) : "") +
           ";\n";
  }
  if (candidate_weight > 0) {
    out += "    server " + candidate +
           (candidate_weight < 100 ? " weight=" + std::to_string(candidate_weight) : "") + ";\n";
  }
  out += "}\n";
  return out;
}

std::unique_ptr<Driver> MakeDriver(const RolloutConfig& config, const DriverEnv& env) {
  if (config.driver == DriverKind::kNginx) return std::make_unique<NginxDriver>(config.nginx, env);
  return std::make_unique<CommandDriver>(config.command, env);
}

}  // namespace stagehost::deploy
