// config.cc -- JSON to Config, defaults, and cross-key checks with messages naming the key.
#include "config.h"

#include <stagehost/stage.h>

#include <cmath>
#include <set>

#include "template.h"

namespace stagehost::deploy {

namespace {

using nlohmann::json;
using stagehost::sdk::BadConfig;

std::string Str(const json& j, const char* key, std::string fallback = {}) {
  return j.contains(key) ? j.at(key).get<std::string>() : fallback;
}
long Millis(const json& j, const char* key, long fallback_ms) {
  return j.contains(key) ? static_cast<long>(std::llround(j.at(key).get<double>() * 1000.0))
                         : fallback_ms;
}
std::vector<std::string> Argv(const json& j, const char* key,
                              std::vector<std::string> fallback = {}) {
  return j.contains(key) ? j.at(key).get<std::vector<std::string>>() : fallback;
}

void CheckTemplateAt(const std::string& where, const std::string& text) {
  static const std::set<std::string> allowed(KnownPlaceholders().begin(),
                                             KnownPlaceholders().end());
  try {
    CheckTemplate(text, allowed);
  } catch (const std::invalid_argument& e) {
    throw BadConfig(where + ": " + e.what());
  }
}
void CheckArgvAt(const std::string& where, const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i)
    CheckTemplateAt(where + "[" + std::to_string(i) + "]", argv[i]);
}

HealthCheck ParseHealth(const json& j, const std::string& where, size_t index) {
  HealthCheck h;
  h.url = Str(j, "url");
  h.name = Str(j, "name", "health " + std::to_string(index + 1));
  h.expect_status = j.value("expect_status", 200L);
  h.body_contains = Str(j, "body_contains");
  h.timeout_ms = Millis(j, "timeout_seconds", 2000);
  CheckTemplateAt(where + ".url", h.url);
  return h;
}

}  // namespace

const std::vector<std::string>& KnownPlaceholders() {
  static const std::vector<std::string> names{
      "version",       "previous_version", "environment", "weight",  "stable_weight",
      "digest",        "artifact_url",     "slot",        "address", "candidate_address",
      "stable_address"};
  return names;
}

Config ParseConfig(const json& j) {
  Config c;
  try {
    const std::string mode = Str(j, "mode", "deploy");
    c.mode = mode == "publish"   ? Mode::kPublish
             : mode == "verify"  ? Mode::kVerify
             : mode == "rollout" ? Mode::kRollout
                                 : Mode::kDeploy;
    c.name = Str(j, "name", c.name);
    c.version = Str(j, "version");
    c.environment = Str(j, "environment", c.environment);
    c.url = Str(j, "url");
    if (j.contains("artifacts")) c.artifacts = j.at("artifacts").get<std::vector<std::string>>();
    c.require_protected_ref = j.value("require_protected_ref", true);
    c.state_file = Str(j, "state_file");
    c.rollback_unfinished = Str(j, "on_unfinished", "refuse") == "rollback";

    if (j.contains("publish")) {
      const json& p = j.at("publish");
      const std::string store = Str(p, "store");
      c.publish.prefix = Str(p, "prefix");
      while (!c.publish.prefix.empty() && c.publish.prefix.back() == '/')
        c.publish.prefix.pop_back();
      while (!c.publish.prefix.empty() && c.publish.prefix.front() == '/')
        c.publish.prefix.erase(0, 1);
      if (store == "s3") {
        if (!p.contains("s3")) throw BadConfig("publish.s3: required when publish.store is s3");
        const json& s = p.at("s3");
        c.publish.store = Store::kS3;
        S3Config& s3 = c.publish.s3;
        s3.endpoint = Str(s, "endpoint");
        while (!s3.endpoint.empty() && s3.endpoint.back() == '/') s3.endpoint.pop_back();
        s3.bucket = Str(s, "bucket");
        s3.region = Str(s, "region", s3.region);
        s3.access_key_id_variable = Str(s, "access_key_id_variable", s3.access_key_id_variable);
        s3.secret_access_key_variable =
            Str(s, "secret_access_key_variable", s3.secret_access_key_variable);
        s3.session_token_variable = Str(s, "session_token_variable");
        s3.part_size = s.value("part_size_mib", 16ull) << 20;
        s3.multipart_threshold = s.value("multipart_threshold_mib", 64ull) << 20;
        s3.parallel_parts = s.value("parallel_parts", 4);
      } else if (store == "http") {
        if (!p.contains("http"))
          throw BadConfig("publish.http: required when publish.store is http");
        const json& h = p.at("http");
        c.publish.store = Store::kHttp;
        HttpStoreConfig& hc = c.publish.http;
        hc.url = Str(h, "url");
        while (!hc.url.empty() && hc.url.back() == '/') hc.url.pop_back();
        hc.username_variable = Str(h, "username_variable");
        hc.password_variable = Str(h, "password_variable");
        hc.token_variable = Str(h, "token_variable");
        hc.checksum_headers = h.value("checksum_headers", true);
        hc.read_back = h.value("read_back", true);
        if (hc.username_variable.empty() != hc.password_variable.empty()) {
          throw BadConfig("publish.http: username_variable and password_variable go together");
        }
      } else {
        if (!p.contains("directory")) {
          throw BadConfig("publish.directory: required when publish.store is directory");
        }
        c.publish.store = Store::kDirectory;
        c.publish.directory = Str(p.at("directory"), "path");
      }
    }
    if (j.contains("signing")) {
      c.signing_key_variable = Str(j.at("signing"), "key_variable");
      c.build_type = Str(j.at("signing"), "build_type", c.build_type);
    }
    if (j.contains("verify")) {
      c.verify_provenance = Str(j.at("verify"), "provenance");
      c.verify_public_key_variable = Str(j.at("verify"), "public_key_variable");
    }

    if (j.contains("analysis")) {
      const json& a = j.at("analysis");
      AnalysisConfig& an = c.analysis;
      an.prometheus_url = Str(a, "prometheus_url");
      while (!an.prometheus_url.empty() && an.prometheus_url.back() == '/')
        an.prometheus_url.pop_back();
      an.interval_ms = Millis(a, "interval_seconds", 5000);
      an.count = a.value("count", 3);
      an.failure_limit = a.value("failure_limit", 0);
      an.inconclusive_limit = a.value("inconclusive_limit", 1);
      an.inconclusive_is_breach = Str(a, "on_inconclusive", "rollback") == "rollback";
      if (a.contains("health_checks")) {
        const json& hs = a.at("health_checks");
        for (size_t i = 0; i < hs.size(); ++i) {
          an.health_checks.push_back(
              ParseHealth(hs[i], "analysis.health_checks[" + std::to_string(i) + "]", i));
        }
      }
      if (a.contains("metrics")) {
        const json& ms = a.at("metrics");
        for (size_t i = 0; i < ms.size(); ++i) {
          const std::string where = "analysis.metrics[" + std::to_string(i) + "]";
          MetricCheck m;
          m.name = Str(ms[i], "name");
          m.query = Str(ms[i], "query");
          CheckTemplateAt(where + ".query", m.query);
          try {
            m.condition = Condition::Parse(Str(ms[i], "condition"));
          } catch (const std::invalid_argument& e) {
            throw BadConfig(where + ".condition: " + e.what());
          }
          an.metrics.push_back(std::move(m));
        }
        if (an.prometheus_url.empty()) {
          throw BadConfig("analysis.prometheus_url: required when analysis.metrics is set");
        }
      }
    }

    if (j.contains("rollout")) {
      const json& r = j.at("rollout");
      RolloutConfig& ro = c.rollout;
      ro.driver = Str(r, "driver") == "nginx" ? DriverKind::kNginx : DriverKind::kCommand;
      const std::string strategy = Str(r, "strategy", "direct");
      ro.strategy = strategy == "canary"       ? Strategy::kCanary
                    : strategy == "blue-green" ? Strategy::kBlueGreen
                                               : Strategy::kDirect;
      ro.command_timeout_ms = Millis(r, "command_timeout_seconds", 300000);
      if (r.contains("steps")) {
        int last = 0;
        for (size_t i = 0; i < r.at("steps").size(); ++i) {
          const json& s = r.at("steps")[i];
          Step step{s.at("weight").get<int>(), Millis(s, "pause_seconds", 0)};
          if (step.weight <= last) {
            throw BadConfig("rollout.steps[" + std::to_string(i) +
                            "].weight: " + std::to_string(step.weight) +
                            " must be greater than the step before (" + std::to_string(last) + ")");
          }
          last = step.weight;
          ro.steps.push_back(step);
        }
      }
      if (ro.strategy == Strategy::kCanary) {
        if (ro.steps.empty()) throw BadConfig("rollout.steps: required for the canary strategy");
        if (ro.steps.back().weight != 100) {
          throw BadConfig("rollout.steps: the last step must reach weight 100 (it is " +
                          std::to_string(ro.steps.back().weight) +
                          "), or the canary would never be promoted");
        }
      } else if (!ro.steps.empty()) {
        throw BadConfig("rollout.steps: only the canary strategy takes steps");
      }
      if (r.contains("pre_switch_checks")) {
        if (ro.strategy != Strategy::kBlueGreen) {
          throw BadConfig("rollout.pre_switch_checks: only the blue-green strategy has a switch");
        }
        const json& hs = r.at("pre_switch_checks");
        for (size_t i = 0; i < hs.size(); ++i) {
          ro.pre_switch_checks.push_back(
              ParseHealth(hs[i], "rollout.pre_switch_checks[" + std::to_string(i) + "]", i));
        }
      }
      if (ro.driver == DriverKind::kNginx) {
        if (!r.contains("nginx"))
          throw BadConfig("rollout.nginx: required when rollout.driver is nginx");
        const json& n = r.at("nginx");
        NginxDriverConfig& nc = ro.nginx;
        nc.upstream_file = Str(n, "upstream_file");
        nc.upstream_name = Str(n, "upstream_name", nc.upstream_name);
        nc.blue = Str(n, "blue");
        nc.green = Str(n, "green");
        nc.reload_command = Argv(n, "reload_command", nc.reload_command);
        nc.test_command = Argv(n, "test_command");
        nc.apply_command = Argv(n, "apply_command");
        nc.settle_ms = Millis(n, "settle_seconds", 500);
        nc.confirm_url = Str(n, "confirm_url");
        CheckArgvAt("rollout.nginx.apply_command", nc.apply_command);
        if (nc.blue == nc.green) throw BadConfig("rollout.nginx: blue and green must differ");
      } else {
        if (!r.contains("command"))
          throw BadConfig("rollout.command: required when rollout.driver is command");
        const json& m = r.at("command");
        CommandDriverConfig& cc = ro.command;
        cc.apply = Argv(m, "apply");
        cc.set_weight = Argv(m, "set_weight");
        cc.promote = Argv(m, "promote");
        cc.rollback = Argv(m, "rollback");
        CheckArgvAt("rollout.command.apply", cc.apply);
        CheckArgvAt("rollout.command.set_weight", cc.set_weight);
        CheckArgvAt("rollout.command.promote", cc.promote);
        CheckArgvAt("rollout.command.rollback", cc.rollback);
        if (ro.strategy != Strategy::kDirect && cc.set_weight.empty()) {
          throw BadConfig("rollout.command.set_weight: required for the " + strategy + " strategy");
        }
      }
    }
  } catch (const json::exception& e) {
    throw BadConfig(std::string("config: ") + e.what());
  }

  // Cross-key needs of each mode.
  const bool publishes = c.mode == Mode::kDeploy || c.mode == Mode::kPublish;
  const bool rolls_out = c.mode == Mode::kDeploy || c.mode == Mode::kRollout;
  if (c.artifacts.empty()) throw BadConfig("artifacts: at least one file is required");
  if (publishes && c.publish.store == Store::kNone) {
    throw BadConfig("publish: required in " +
                    std::string(c.mode == Mode::kDeploy ? "deploy" : "publish") + " mode");
  }
  if (publishes && c.signing_key_variable.empty()) {
    throw BadConfig("signing.key_variable: required when publishing (every release is attested)");
  }
  if ((c.mode == Mode::kVerify || c.mode == Mode::kRollout) && c.verify_provenance.empty()) {
    throw BadConfig("verify.provenance: required in verify and rollout modes");
  }
  if ((c.mode == Mode::kVerify || c.mode == Mode::kRollout) &&
      c.verify_public_key_variable.empty() && c.signing_key_variable.empty()) {
    throw BadConfig(
        "verify.public_key_variable: required (or signing.key_variable) to check signatures");
  }
  if (rolls_out && c.rollout.driver == DriverKind::kNone) {
    throw BadConfig("rollout: required in " +
                    std::string(c.mode == Mode::kDeploy ? "deploy" : "rollout") + " mode");
  }
  CheckTemplateAt("url", c.url);
  return c;
}

}  // namespace stagehost::deploy
