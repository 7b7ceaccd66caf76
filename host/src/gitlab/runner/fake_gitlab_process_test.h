// FakeGitLabProcess: tests/fake_gitlab/fake_gitlab.py as a subprocess for the artifact tests.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "gitlab/runner/api_client.h"
#include "net/http_client.h"

namespace stagehost::testutil {

class FakeGitLabProcess {
 public:
  static constexpr const char* kRunnerToken = "glrt-artifact-tests";

  explicit FakeGitLabProcess(const std::filesystem::path& state_dir) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    // Built before fork: the child may only exec.
    std::string script = std::string(STAGEHOST_SOURCE_DIR) + "/tests/fake_gitlab/fake_gitlab.py";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::execl("/usr/bin/python3", "python3", script.c_str(), "--port", "0", "--object-storage",
              "--interval", "1", "--runner", kRunnerToken, "--state-dir", state_dir.c_str(),
              (char*)nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) {
      port_ = std::stoi(line);
    }
  }
  ~FakeGitLabProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  FakeGitLabProcess(const FakeGitLabProcess&) = delete;
  FakeGitLabProcess& operator=(const FakeGitLabProcess&) = delete;

  bool running() const { return port_ > 0; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::string base() const { return url() + "api/v4/"; }

  // POST /__fake/call {"method", "args"}.
  nlohmann::json Call(const std::string& method, nlohmann::json args = nlohmann::json::array()) {
    return Post("call", {{"method", method}, {"args", std::move(args)}});
  }
  nlohmann::json Post(const std::string& what, const nlohmann::json& body) {
    net::Request request;
    request.method = "POST";
    request.url = url() + "__fake/" + what;
    request.body = body.dump();
    request.headers.push_back({"Content-Type", "application/json"});
    return Send(request);
  }
  nlohmann::json Get(const std::string& what) {
    net::Request request;
    request.url = url() + "__fake/" + what;
    return Send(request);
  }
  nlohmann::json Job(int64_t id) { return Get("jobs/" + std::to_string(id)); }

  // Enqueues a job and picks it up as the runner, so its token is that of a running job.
  std::pair<int64_t, std::string> StartJob() {
    Post("jobs", {{"script", {"true"}}});
    gitlab::GitLabApi api(url(), {}, std::chrono::seconds(10));
    Result<net::Response> got = api.RequestJob(kRunnerToken, "s_0123456789ab", "", {});
    if (!got.ok() || got->status != 201) {
      ADD_FAILURE() << "jobs/request failed: "
                    << (got.ok() ? std::to_string(got->status) : got.status().message());
      return {0, ""};
    }
    auto payload = nlohmann::json::parse(got->body);
    return {payload["id"].get<int64_t>(), payload["token"].get<std::string>()};
  }
  int64_t EnqueueJob() { return Post("jobs", {{"script", {"true"}}})["id"].get<int64_t>(); }

 private:
  nlohmann::json Send(const net::Request& request) {
    Result<net::Response> response = http_.Send(request);
    if (!response.ok() || response->status != 200) {
      ADD_FAILURE() << "fake control " << request.url << " failed: "
                    << (response.ok() ? response->body : response.status().message());
      return nullptr;
    }
    return nlohmann::json::parse(response->body, nullptr, false);
  }

  pid_t pid_ = -1;
  int port_ = 0;
  net::HttpClient http_;
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace stagehost::testutil
