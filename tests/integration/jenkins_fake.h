// jenkins_fake.h -- starts tests/fake_jenkins/fake_jenkins.py on a free loopback port for one test
// and drives its /__fake/ control API; header-only so the test glob needs nothing more.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "testutil/python_fake.h"

namespace stagehost::testutil {

class FakeJenkinsProcess : public PythonFakeProcess {
 public:
  static constexpr const char* kUser = "admin";
  static constexpr const char* kToken = "11aa22bb33cc44dd55ee66ff77889900aa";
  static constexpr const char* kPassword = "secret";

  FakeJenkinsProcess() : PythonFakeProcess({"tests/fake_jenkins/fake_jenkins.py", "--port", "0"}) {}

  // Environment for `stagehost jenkins ...` against this server.
  std::map<std::string, std::string> Env(const std::string& secret = kToken) const {
    return {{"JENKINS_URL", url()}, {"JENKINS_USER_ID", kUser}, {"JENKINS_API_TOKEN", secret}};
  }

  // POST /__fake/<what> with a JSON body.
  nlohmann::json Control(const std::string& what,
                         const nlohmann::json& body = nlohmann::json::object()) {
    return Post(what, body);
  }
};

}  // namespace stagehost::testutil
