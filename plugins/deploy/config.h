// config.h -- the deploy configuration as typed structs, with defaults applied and everything the
// schema cannot express checked (templates, conditions, step order, driver needs).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "condition.h"

namespace stagehost::deploy {

enum class Mode { kDeploy, kPublish, kVerify, kRollout };
enum class Store { kNone, kS3, kHttp, kDirectory };
enum class DriverKind { kNone, kNginx, kCommand };
enum class Strategy { kDirect, kBlueGreen, kCanary };

struct S3Config {
  std::string endpoint, bucket, region = "us-east-1";
  std::string access_key_id_variable = "AWS_ACCESS_KEY_ID";
  std::string secret_access_key_variable = "AWS_SECRET_ACCESS_KEY";
  std::string session_token_variable;
  std::uint64_t part_size = 16ull << 20;
  std::uint64_t multipart_threshold = 64ull << 20;
  int parallel_parts = 4;
};

struct HttpStoreConfig {
  std::string url, username_variable, password_variable, token_variable;
  bool checksum_headers = true;
  bool read_back = true;
};

struct PublishConfig {
  Store store = Store::kNone;
  std::string prefix;
  S3Config s3;
  HttpStoreConfig http;
  std::string directory;
};

struct HealthCheck {
  std::string name, url, body_contains;
  long expect_status = 200;
  long timeout_ms = 2000;
};

struct MetricCheck {
  std::string name, query;
  Condition condition;
};

struct AnalysisConfig {
  std::string prometheus_url;
  long interval_ms = 5000;
  int count = 3;
  int failure_limit = 0;
  int inconclusive_limit = 1;
  bool inconclusive_is_breach = true;
  std::vector<HealthCheck> health_checks;
  std::vector<MetricCheck> metrics;
  bool empty() const { return health_checks.empty() && metrics.empty(); }
};

struct Step {
  int weight = 100;
  long pause_ms = 0;
};

struct NginxDriverConfig {
  std::string upstream_file, upstream_name = "stagehost_backend", blue, green, confirm_url;
  std::vector<std::string> reload_command{"nginx", "-s", "reload"};
  std::vector<std::string> test_command, apply_command;
  long settle_ms = 500;
};

struct CommandDriverConfig {
  std::vector<std::string> apply, set_weight, promote, rollback;
};

struct RolloutConfig {
  DriverKind driver = DriverKind::kNone;
  Strategy strategy = Strategy::kDirect;
  std::vector<Step> steps;
  std::vector<HealthCheck> pre_switch_checks;
  long command_timeout_ms = 300000;
  NginxDriverConfig nginx;
  CommandDriverConfig command;
};

struct Config {
  Mode mode = Mode::kDeploy;
  std::string name = "model";
  std::string version;  // empty: resolved from the environment at run time
  std::string environment = "production";
  std::string url;
  std::vector<std::string> artifacts;
  bool require_protected_ref = true;
  std::string state_file;  // empty: .stagehost/deploy-<environment>.json
  bool rollback_unfinished = false;
  PublishConfig publish;
  std::string signing_key_variable;
  std::string build_type = "https://stagehost.dev/deploy/v1";
  std::string verify_provenance;
  std::string verify_public_key_variable;
  RolloutConfig rollout;
  AnalysisConfig analysis;
};

// Throws stagehost::sdk::BadConfig naming the key for every problem the schema cannot catch.
Config ParseConfig(const nlohmann::json& json);

// The placeholders templates may use (template.h).
const std::vector<std::string>& KnownPlaceholders();

}  // namespace stagehost::deploy
