// rollout_test.cc -- rollouts against real services on loopback: two python3 model servers
// (blue, green) behind real nginx, scraped every second by a real Prometheus. Canary that
// breaches at 25 % and rolls back, healthy canary to 100 %, blue-green switch, and a deploy
// killed mid-rollout followed by a refused re-run and a recovering one.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config.h"
#include "crypto.h"
#include "deploy.h"
#include "drivers.h"
#include "state.h"
#include "test_helpers.h"

namespace stagehost::deploy {
namespace {

using namespace testing;

// A model server: /predict answers with its slot's current version (read from <slot>.version,
// which the driver's apply_command writes) and fails with 500 when that version contains "bad"
// and the file fail-now exists; /metrics exposes request counts per version and code.
constexpr const char* kServer = R"PY(
import os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, slot, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
counts, lock = {}, threading.Lock()
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        ver = open(os.path.join(d, slot + '.version')).read().strip()
        if self.path == '/metrics':
            with lock:
                body = ''.join('model_requests_total{version="%s",code="%s"} %d\n' % (v, c, n) for (v, c), n in counts.items())
            return self.reply(200, body)
        if self.path == '/healthz':
            return self.reply(200, 'ok ' + ver)
        code = 500 if ('bad' in ver and os.path.exists(os.path.join(d, 'fail-now'))) else 200
        with lock:
            counts[(ver, str(code))] = counts.get((ver, str(code)), 0) + 1
        self.reply(code, ver)
ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
)PY";

// Steady traffic through nginx; once the upstream file gives the candidate 25 %, the bad
// version starts failing (fail-now), as a model that breaks under real load would.
constexpr const char* kLoad = R"PY(
import os, sys, time, urllib.request
url, upstream, d = sys.argv[1], sys.argv[2], sys.argv[3]
while True:
    try:
        if 'weight=25;' in open(upstream).read():
            open(os.path.join(d, 'fail-now'), 'w').close()
        urllib.request.urlopen(url, timeout=2).read()
    except Exception:
        pass
    time.sleep(0.01)
)PY";

class RolloutTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists("/usr/sbin/nginx") || !fs::exists("/usr/bin/prometheus")) return;
    dir_ = new TempDir();
    const std::string d = dir_->path();
    blue_port_ = testutil::FreeLoopbackPort();
    green_port_ = testutil::FreeLoopbackPort();
    nginx_port_ = testutil::FreeLoopbackPort();
    prom_port_ = testutil::FreeLoopbackPort();
    Spit(d + "/server.py", kServer);
    Spit(d + "/load.py", kLoad);
    Spit(d + "/blue.version", "v1");
    Spit(d + "/green.version", "v1");
    Spit(d + "/upstream.conf", NginxUpstream("stagehost_backend", Blue(), Green(), 0));
    Spit(d + "/nginx.conf",
         NginxConf(d, "  include " + d + "/upstream.conf;\n  server {\n    listen 127.0.0.1:" +
                          std::to_string(nginx_port_) +
                          ";\n    location / { proxy_pass http://stagehost_backend; }\n  }\n"));
    Spit(d + "/prometheus.yml",
         "global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n"
         "  - job_name: model\n    static_configs:\n      - targets: ['" +
             Blue() + "', '" + Green() + "']\n");
    blue_ =
        new Service({"/usr/bin/python3", d + "/server.py", std::to_string(blue_port_), "blue", d},
                    d + "/blue.log");
    green_ =
        new Service({"/usr/bin/python3", d + "/server.py", std::to_string(green_port_), "green", d},
                    d + "/green.log");
    nginx_ =
        new Service({"/usr/sbin/nginx", "-p", d, "-c", d + "/nginx.conf"}, d + "/nginx.stderr");
    prom_ = new Service({"/usr/bin/prometheus", "--config.file=" + d + "/prometheus.yml",
                         "--storage.tsdb.path=" + d + "/tsdb",
                         "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_)},
                        d + "/prometheus.log");
    load_ = new Service(
        {"/usr/bin/python3", d + "/load.py",
         "http://127.0.0.1:" + std::to_string(nginx_port_) + "/predict", d + "/upstream.conf", d},
        d + "/load.log");
    ready_ = WaitHttp("http://" + Blue() + "/healthz") &&
             WaitHttp("http://" + Green() + "/healthz") &&
             WaitHttp("http://127.0.0.1:" + std::to_string(nginx_port_) + "/healthz") &&
             WaitHttp("http://127.0.0.1:" + std::to_string(prom_port_) + "/-/ready",
                      std::chrono::seconds(30));
    // Ready is not scraped: wait until v1's traffic shows as a rate (two scrapes at least), so
    // the first test is not judged on an empty database.
    for (int i = 0; ready_ && i < 100; ++i) {
      HttpRequest q;
      q.url = "http://127.0.0.1:" + std::to_string(prom_port_) +
              "/api/v1/query?query=sum(rate(model_requests_total%5B3s%5D))%3E0";
      if (HttpCall(q).body.find("\"value\"") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  static void TearDownTestSuite() {
    delete load_;
    delete prom_;
    delete nginx_;
    delete green_;
    delete blue_;
    delete dir_;
  }

  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "nginx or prometheus not installed";
    ASSERT_TRUE(ready_) << "services did not start: " << prom_->log() << nginx_->log();
    const std::string d = dir_->path();
    // The world before each test: v1 live on blue only.
    Spit(d + "/blue.version", "v1");
    Spit(d + "/green.version", "v1");
    fs::remove(d + "/fail-now");
    Spit(d + "/upstream.conf", NginxUpstream("stagehost_backend", Blue(), Green(), 0));
    ASSERT_EQ(
        std::system(("/usr/sbin/nginx -p " + d + " -c " + d + "/nginx.conf -s reload").c_str()), 0);
    run_.workspace = ws_.path();
    run_.artifacts = ws_ / "out";
    Spit(ws_ / "model/model.json", R"({"weights": [1, 2, 3]})");
    const Ed25519Key key = Ed25519Key::Generate();
    run_.vars["DEPLOY_SIGNING_KEY"] = key.PrivatePem();
    state_ = ws_ / "state.json";
    Spit(state_,
         R"({"environment":"production","live_version":"v1","live_slot":"blue","phase":"done"})");
  }

  static std::string Blue() { return "127.0.0.1:" + std::to_string(blue_port_); }
  static std::string Green() { return "127.0.0.1:" + std::to_string(green_port_); }

  std::string Config(const std::string& version, const std::string& strategy,
                     const std::string& steps, const std::string& extra_rollout = "",
                     const std::string& top = "") {
    const std::string d = dir_->path();
    const std::string nginx =
        "\"/usr/sbin/nginx\",\"-p\",\"" + d + "\",\"-c\",\"" + d + "/nginx.conf\"";
    return R"({"version":")" + version + R"(","state_file":")" + state_ + "\"" + top + R"(,
      "artifacts":["model/model.json"],"signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
      "publish":{"store":"directory","directory":{"path":"store"}},
      "rollout":{"driver":"nginx","strategy":")" +
           strategy + "\"" + steps + extra_rollout + R"(,
        "nginx":{"upstream_file":")" +
           d + R"(/upstream.conf","blue":")" + Blue() + R"(","green":")" + Green() + R"(",
          "reload_command":[)" +
           nginx + R"(,"-s","reload"],"test_command":[)" + nginx + R"(,"-t","-q"],
          "apply_command":["/usr/bin/python3","-c","import sys; f = open(sys.argv[1], 'w'); f.write(sys.argv[2]); f.close();",")" +
           d +
           R"(/{slot}.version","{version}"],"settle_seconds":0.3}},
      "analysis":{"prometheus_url":"http://127.0.0.1:)" +
           std::to_string(prom_port_) + R"J(","interval_seconds":1,"count":3,
        "failure_limit":0,"inconclusive_limit":2,
        "health_checks":[{"name":"candidate healthz","url":"http://{candidate_address}/healthz"}],
        "metrics":[{"name":"error ratio","condition":"result < 0.05",
          "query":"(sum(rate(model_requests_total{version=\"{version}\",code=\"500\"}[3s])) or vector(0)) / sum(rate(model_requests_total{version=\"{version}\"}[3s]))"}]}})J";
  }
  DeployState State() { return DeployState::FromJson(nlohmann::json::parse(Slurp(state_))); }
  std::string Upstream() { return Slurp(dir_->path() + "/upstream.conf"); }
  DeployReport Run(const std::string& cfg) {
    return RunDeploy(ParseConfig(nlohmann::json::parse(cfg)), run_.Env());
  }

  static inline TempDir* dir_ = nullptr;
  static inline Service *blue_ = nullptr, *green_ = nullptr, *nginx_ = nullptr, *prom_ = nullptr,
                        *load_ = nullptr;
  static inline int blue_port_ = 0, green_port_ = 0, nginx_port_ = 0, prom_port_ = 0;
  static inline bool ready_ = false;
  TempDir ws_;
  TestRun run_;
  std::string state_;
};

TEST_F(RolloutTest, CanaryBreachingAt25PercentRollsBack) {
  DeployReport r = Run(Config(
      "v2-bad", "canary",
      R"(,"steps":[{"weight":10,"pause_seconds":1.5},{"weight":25,"pause_seconds":1.5},{"weight":50},{"weight":100}])"));
  ASSERT_EQ(r.verdict, Verdict::kFailed) << r.message << "\n" << run_.log;
  EXPECT_NE(r.message.find("rolled back to v1"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("canary 25%: metric error ratio failed"), std::string::npos)
      << r.message;
  ASSERT_EQ(r.record["steps"].size(), 2u) << r.record.dump(2);
  EXPECT_EQ(r.record["steps"][0]["result"], "passed");
  EXPECT_EQ(r.record["steps"][1]["result"], "breached");
  // Traffic is back on blue alone; the state file says so.
  EXPECT_NE(Upstream().find(Blue() + ";"), std::string::npos) << Upstream();
  EXPECT_EQ(Upstream().find(Green()), std::string::npos) << Upstream();
  DeployState s = State();
  EXPECT_EQ(s.phase, Phase::kRolledBack);
  EXPECT_EQ(s.live_version, "v1");
  EXPECT_NE(run_.log.find("WARN deploy: rolling back production to v1"), std::string::npos)
      << run_.log;
  EXPECT_NE(Slurp(run_.artifacts + "/deploy-junit.xml").find("<failure"), std::string::npos);
  EXPECT_NE(Slurp(run_.artifacts + "/deploy.env").find("DEPLOY_OUTCOME=failed"), std::string::npos);
}

TEST_F(RolloutTest, HealthyCanaryPromotesTo100) {
  DeployReport r =
      Run(Config("v3-good", "canary",
                 R"(,"steps":[{"weight":10,"pause_seconds":1.5},{"weight":50},{"weight":100}])"));
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message << "\n" << run_.log;
  EXPECT_EQ(r.record["steps"].size(), 3u);
  EXPECT_EQ(Upstream().find(Blue()), std::string::npos) << Upstream();
  EXPECT_NE(Upstream().find(Green() + ";"), std::string::npos) << Upstream();
  DeployState s = State();
  EXPECT_EQ(s.phase, Phase::kDone);
  EXPECT_EQ(s.live_version, "v3-good");
  EXPECT_EQ(s.live_slot, "green");
  EXPECT_EQ(Slurp(dir_->path() + "/green.version"), "v3-good");
  EXPECT_EQ(r.record["previous_version"], "v1");
  EXPECT_NE(Slurp(run_.artifacts + "/deploy.env").find("DEPLOY_LIVE_VERSION=v3-good"),
            std::string::npos);
}

TEST_F(RolloutTest, BlueGreenSwitchesAfterPreSwitchChecks) {
  DeployReport r = Run(Config(
      "v4-green", "blue-green", "",
      R"(,"pre_switch_checks":[{"name":"idle slot","url":"http://{candidate_address}/healthz","body_contains":"ok v4-green"}])"));
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message << "\n" << run_.log;
  EXPECT_EQ(r.record["steps"][0]["name"], "pre-switch");
  EXPECT_EQ(r.record["steps"][1]["name"], "after switch");
  EXPECT_NE(Upstream().find("server " + Green() + ";"), std::string::npos) << Upstream();
  EXPECT_EQ(State().live_slot, "green");
  // Through nginx, every answer now comes from the new version.
  HttpRequest get;
  get.url = "http://127.0.0.1:" + std::to_string(nginx_port_) + "/predict";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(HttpCall(get).body, "v4-green");
}

TEST_F(RolloutTest, KilledMidRolloutRefusesThenRecovers) {
  const std::string cfg =
      Config("v5", "canary", R"(,"steps":[{"weight":10,"pause_seconds":60},{"weight":100}])");
  pid_t child = ::fork();
  if (child == 0) {
    try {
      Run(cfg);
    } catch (...) {
    }
    ::_exit(0);
  }
  // Wait until the child is at the 10 % step, then kill it without warning.
  bool at_step = false;
  for (int i = 0; i < 200 && !at_step; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    try {
      at_step = State().phase == Phase::kStep && Upstream().find("weight=10;") != std::string::npos;
    } catch (...) {
    }
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(at_step) << Slurp(state_);

  DeployReport refused = Run(Config("v6", "direct", ""));
  EXPECT_EQ(refused.verdict, Verdict::kFailed);
  EXPECT_NE(refused.message.find("stopped in phase canary-step at 10%"), std::string::npos)
      << refused.message;
  EXPECT_NE(Upstream().find("weight=10;"), std::string::npos)
      << "a refused run must not touch the target";

  DeployReport recovered = Run(Config("v6", "direct", "", "", R"(,"on_unfinished":"rollback")"));
  ASSERT_EQ(recovered.verdict, Verdict::kPassed) << recovered.message << "\n" << run_.log;
  EXPECT_TRUE(recovered.record["recovered_unfinished"].get<bool>());
  EXPECT_NE(run_.log.find("rolling it back first"), std::string::npos) << run_.log;
  EXPECT_EQ(State().live_version, "v6");
  EXPECT_EQ(State().phase, Phase::kDone);
}

TEST_F(RolloutTest, TamperedArtifactNeverRollsOut) {
  // Provenance made by a publish run, then the file changes before the rollout run.
  const std::string upstream_before = Upstream();
  DeployReport pub = Run(R"({"mode":"publish","version":"v7","artifacts":["model/model.json"],
    "signing":{"key_variable":"DEPLOY_SIGNING_KEY"},"publish":{"store":"directory","directory":{"path":"store"}}})");
  ASSERT_EQ(pub.verdict, Verdict::kPassed) << pub.message;
  fs::copy_file(run_.artifacts + "/provenance.intoto.jsonl", ws_ / "provenance.intoto.jsonl");
  Spit(ws_ / "model/model.json", R"({"weights": [6, 6, 6]})");
  std::string cfg = Config("v7", "direct", "");
  cfg.replace(cfg.find("{\"version\""), 1,
              R"({"mode":"rollout","verify":{"provenance":"provenance.intoto.jsonl"},)");
  DeployReport r = Run(cfg);
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.message.find("verification failed"), std::string::npos) << r.message;
  EXPECT_EQ(Upstream(), upstream_before);
  EXPECT_EQ(State().live_version, "v1");
}

}  // namespace
}  // namespace stagehost::deploy
