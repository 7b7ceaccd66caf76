// python_fake.h -- one of the Python fake servers (tests/fake_*/) as a child process for one test:
// started on a free loopback port, driven through its /__fake/ control API, stopped with SIGTERM.
// Header-only: it needs the host's HttpClient, which only the test binaries link.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net/http_client.h"

namespace stagehost::testutil {

class PythonFakeProcess {
 public:
  // Runs `/usr/bin/python3 <args...>` (args[0] = the script, relative to STAGEHOST_SOURCE_DIR).
  // The fake prints the port it bound on its first stdout line: "12345" or "PORT 12345".
  explicit PythonFakeProcess(std::vector<std::string> args) {
    args[0] = std::string(STAGEHOST_SOURCE_DIR) + "/" + args[0];
    args.insert(args.begin(), "python3");
    // Built before fork: the child may only exec.
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::execv("/usr/bin/python3", argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    if (line.rfind("PORT ", 0) == 0) line.erase(0, 5);
    if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) port_ = std::stoi(line);
  }
  ~PythonFakeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  PythonFakeProcess(const PythonFakeProcess&) = delete;
  PythonFakeProcess& operator=(const PythonFakeProcess&) = delete;

  bool running() const { return port_ > 0; }
  int port() const { return port_; }
  // "http://127.0.0.1:<port>", no trailing slash.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // POST /__fake/<what> with a JSON body / GET /__fake/<what>: the JSON answer, or null with a
  // test failure recorded.
  nlohmann::json Post(const std::string& what,
                      const nlohmann::json& body = nlohmann::json::object()) {
    net::Request request;
    request.method = "POST";
    request.url = url() + "/__fake/" + what;
    request.body = body.dump();
    request.headers.push_back({"Content-Type", "application/json"});
    return Send(request);
  }
  nlohmann::json Get(const std::string& what) {
    net::Request request;
    request.url = url() + "/__fake/" + what;
    return Send(request);
  }

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

}  // namespace stagehost::testutil
