// jenkins_fake.h -- starts tests/fake_jenkins/fake_jenkins.py on a free loopback port for one test
// and drives its /__fake/ control API; header-only so the test glob needs nothing more.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

#include "net/http_client.h"

namespace stagehost::testutil {

class FakeJenkinsProcess {
 public:
  static constexpr const char* kUser = "admin";
  static constexpr const char* kToken = "11aa22bb33cc44dd55ee66ff77889900aa";
  static constexpr const char* kPassword = "secret";

  FakeJenkinsProcess() {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      std::string script =
          std::string(STAGEHOST_SOURCE_DIR) + "/tests/fake_jenkins/fake_jenkins.py";
      ::execl("/usr/bin/python3", "python3", script.c_str(), "--port", "0", (char*)nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    if (line.rfind("PORT ", 0) == 0) port_ = std::stoi(line.substr(5));
  }
  ~FakeJenkinsProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  FakeJenkinsProcess(const FakeJenkinsProcess&) = delete;
  FakeJenkinsProcess& operator=(const FakeJenkinsProcess&) = delete;

  bool running() const { return port_ > 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Environment for `stagehost jenkins ...` against this server.
  std::map<std::string, std::string> Env(const std::string& secret = kToken) const {
    return {{"JENKINS_URL", url()}, {"JENKINS_USER_ID", kUser}, {"JENKINS_API_TOKEN", secret}};
  }

  // POST /__fake/<what> with a JSON body; returns the JSON answer (null on failure, with a
  // test failure recorded).
  nlohmann::json Control(const std::string& what,
                         const nlohmann::json& body = nlohmann::json::object()) {
    net::Request request;
    request.method = "POST";
    request.url = url() + "/__fake/" + what;
    request.body = body.dump();
    request.headers.push_back({"Content-Type", "application/json"});
    return Call(request);
  }
  nlohmann::json Get(const std::string& what) {
    net::Request request;
    request.url = url() + "/__fake/" + what;
    return Call(request);
  }

 private:
  nlohmann::json Call(const net::Request& request) {
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

}  // namespace stagehost::testutil
