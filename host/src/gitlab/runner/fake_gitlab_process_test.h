// FakeGitLabProcess: tests/fake_gitlab/fake_gitlab.py as a subprocess for the artifact tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "gitlab/runner/api_client.h"
#include "testutil/python_fake.h"

namespace stagehost::testutil {

class FakeGitLabProcess : public PythonFakeProcess {
 public:
  static constexpr const char* kRunnerToken = "glrt-artifact-tests";

  explicit FakeGitLabProcess(const std::filesystem::path& state_dir)
      : PythonFakeProcess({"tests/fake_gitlab/fake_gitlab.py", "--port", "0", "--object-storage",
                           "--interval", "1", "--runner", kRunnerToken, "--state-dir",
                           state_dir.string()}) {}

  std::string base() const { return url() + "/api/v4/"; }

  // POST /__fake/call {"method", "args"}.
  nlohmann::json Call(const std::string& method, nlohmann::json args = nlohmann::json::array()) {
    return Post("call", {{"method", method}, {"args", std::move(args)}});
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
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace stagehost::testutil
