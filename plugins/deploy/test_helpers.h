// test_helpers.h -- for the deploy tests: temp dirs, free loopback ports, background services
// (s3rver, nginx, Prometheus, python3 servers) started and stopped by the tests, and a RunEnv.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "deploy.h"
#include "http.h"
#include "testutil/free_port.h"

namespace stagehost::deploy::testing {

namespace fs = std::filesystem;

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void Spit(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "deploy-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// A background process in its own process group, output to `log`; killed (group) on destruction.
class Service {
 public:
  Service() = default;
  Service(const std::vector<std::string>& argv, const std::string& log) { Start(argv, log); }
  ~Service() { Stop(); }
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  void Start(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> cargv;
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
    ::close(out);
    log_ = log;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string log() const { return Slurp(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// Polls `url` until it answers with any HTTP status, up to `wait`.
inline bool WaitHttp(const std::string& url,
                     std::chrono::milliseconds wait = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < end) {
    HttpRequest r;
    r.url = url;
    r.timeout_ms = 1000;
    if (HttpCall(r).status > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

inline std::string SourceDir() { return DEPLOY_SOURCE_DIR; }

// nginx run as the test user: its own prefix, pid file, logs and temp paths under `dir`.
inline std::string NginxConf(const std::string& dir, const std::string& http_body) {
  std::string user;
  if (::geteuid() == 0) user = "user root root;\n";  // workers must reach the 0700 temp dir
  return user + "daemon off;\nworker_processes 1;\npid " + dir + "/nginx.pid;\nerror_log " + dir +
         "/error.log warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n"
         "  client_body_temp_path " +
         dir + "/body;\n  proxy_temp_path " + dir +
         "/proxy;\n"
         "  fastcgi_temp_path " +
         dir + "/fcgi;\n  uwsgi_temp_path " + dir +
         "/uwsgi;\n"
         "  scgi_temp_path " +
         dir + "/scgi;\n" + http_body + "}\n";
}

// The environment a test run sees (CI variables + secrets) and hooks that record the log.
struct TestRun {
  std::map<std::string, std::string> vars{
      {"CI_COMMIT_REF_PROTECTED", "true"},
      {"CI_JOB_URL", "https://gitlab.example.com/ml/model/-/jobs/42"},
      {"CI_PROJECT_URL", "https://gitlab.example.com/ml/model"},
      {"CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"},
      {"CI_COMMIT_REF_NAME", "main"},
      {"PATH", "/usr/sbin:/usr/bin:/bin"}};
  std::string log;
  std::string workspace, artifacts;

  RunEnv Env() {
    RunEnv env;
    env.workspace = workspace;
    env.artifact_dir = artifacts;
    fs::create_directories(artifacts);
    env.env = [this](const std::string& k) -> std::optional<std::string> {
      auto it = vars.find(k);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    for (const auto& [k, v] : vars) env.env_entries.push_back(k + "=" + v);
    env.hooks.info = [this](const std::string& l) { log += l + "\n"; };
    env.hooks.warn = [this](const std::string& l) { log += "WARN " + l + "\n"; };
    env.sleep = [](long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
    return env;
  }
};

}  // namespace stagehost::deploy::testing
