// deploy.h -- the deploy stage as a function: config and job environment in, report files and a
// verdict out. The plugin class (deploy_plugin.cc) only maps this onto the SDK.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config.h"
#include "publish.h"

namespace stagehost::deploy {

// One verification gate, one JUnit test case.
struct Gate {
  std::string suite;  // "publish", "verify", "rollout", "safety"
  std::string name;
  enum class Status { kPassed, kFailed, kSkipped } status = Status::kPassed;
  std::string message;
};

enum class Verdict {
  kPassed,          // published / verified / promoted
  kFailed,          // refused, verification failed, release conflict, or rolled back cleanly
  kRollbackFailed,  // the new version misbehaved and restoring the old one failed too
};

struct ReportFile {
  std::string rel_path, name, media_type;
};

struct DeployReport {
  Verdict verdict = Verdict::kPassed;
  std::string message;  // one line: what happened
  std::string version, url;
  nlohmann::json record;
  std::vector<Gate> gates;
  std::vector<ReportFile> files;  // written under the artifact directory, to announce
};

struct RunEnv {
  std::string workspace, artifact_dir;
  EnvLookup env;
  std::vector<std::string> env_entries;  // KEY=VALUE, for driver commands
  Hooks hooks;
  std::function<void(long ms)> sleep;  // interruptible; throws on cancel
  std::string plugin_version = "0.1.0";
};

// Throws sdk::BadConfig / sdk::InfraError / sdk::Cancelled for what is not a verdict.
DeployReport RunDeploy(const Config& config, const RunEnv& env);

// Report names in the artifact directory.
inline constexpr const char* kRecordFile = "deploy-record.json";
inline constexpr const char* kDotenvFile = "deploy.env";
inline constexpr const char* kJUnitFile = "deploy-junit.xml";
inline constexpr const char* kEnvelopeFile = "provenance.intoto.jsonl";
inline constexpr const char* kStatementFile = "provenance.json";
inline constexpr const char* kSignatureFile = "provenance.json.sig";
inline constexpr const char* kPublicKeyFile = "provenance.pub.pem";
// The same key in securesystemslib's JSON format, for in-toto layouts, and the link's step name.
inline constexpr const char* kSslibKeyFile = "provenance.pub.json";
inline constexpr const char* kLinkStep = "publish";

std::string JUnitXml(const std::vector<Gate>& gates);
// KEY=value lines as GitLab's dotenv report wants them (no quotes, no newlines in values).
std::string Dotenv(const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace stagehost::deploy
