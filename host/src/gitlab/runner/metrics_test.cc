// RunnerMetrics text format line by line, the /metrics server, and a scrape by a real Prometheus.
#include "gitlab/runner/metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "testutil/free_port.h"

namespace stagehost::gitlab {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct HttpAnswer {
  int status = 0;
  std::string head;
  std::string body;
};

// A bare HTTP/1.1 GET on loopback that reads until the server closes.
HttpAnswer HttpRequest(int port, const std::string& method, const std::string& target) {
  HttpAnswer answer;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return answer;
  }
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;) raw.append(buffer, n);
  close(fd);
  size_t split = raw.find("\r\n\r\n");
  if (split == std::string::npos || raw.size() < 12) return answer;
  answer.status = std::stoi(raw.substr(9, 3));
  answer.head = raw.substr(0, split);
  answer.body = raw.substr(split + 4);
  return answer;
}

TEST(RunnerMetricsTest, RendersTheExpositionFormatLineByLine) {
  RunnerMetrics metrics;
  metrics.JobStarted();
  metrics.JobStarted();
  metrics.JobFinished("success");
  metrics.TraceBytesSent(1500);
  metrics.TraceBytesSent(500);
  metrics.ApiRequest("jobs/request", 201);
  metrics.ApiRequest("jobs/request", 204);
  metrics.ApiRequest("jobs/request", 204);
  metrics.ApiRequest("jobs/:id/trace", 0);
  metrics.Retry("trace");
  metrics.Error("api \"bad\"\\path\nnext");

  std::vector<std::string> expected = {
      "# HELP stagehost_runner_api_requests_total GitLab API requests, by endpoint and HTTP "
      "status (0: no answer).",
      "# TYPE stagehost_runner_api_requests_total counter",
      R"(stagehost_runner_api_requests_total{endpoint="jobs/:id/trace",status="0"} 1)",
      R"(stagehost_runner_api_requests_total{endpoint="jobs/request",status="201"} 1)",
      R"(stagehost_runner_api_requests_total{endpoint="jobs/request",status="204"} 2)",
      "# HELP stagehost_runner_errors_total Runner errors, by kind.",
      "# TYPE stagehost_runner_errors_total counter",
      R"(stagehost_runner_errors_total{kind="api \"bad\"\\path\nnext"} 1)",
      "# HELP stagehost_runner_jobs_finished_total Jobs finished, by final state.",
      "# TYPE stagehost_runner_jobs_finished_total counter",
      R"(stagehost_runner_jobs_finished_total{state="success"} 1)",
      "# HELP stagehost_runner_jobs_running Jobs this runner is executing now.",
      "# TYPE stagehost_runner_jobs_running gauge",
      "stagehost_runner_jobs_running 1",
      "# HELP stagehost_runner_retries_total Retried operations, by kind.",
      "# TYPE stagehost_runner_retries_total counter",
      R"(stagehost_runner_retries_total{kind="trace"} 1)",
      "# HELP stagehost_runner_trace_bytes_sent_total Job log bytes GitLab accepted.",
      "# TYPE stagehost_runner_trace_bytes_sent_total counter",
      "stagehost_runner_trace_bytes_sent_total 2000",
  };
  std::string text = metrics.Render();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(Lines(text), expected) << text;
}

TEST(RunnerMetricsTest, EmptyRegistryShowsUnlabelledZerosAndGenericAccessChecksLabels) {
  RunnerMetrics metrics;
  std::string text = metrics.Render();
  EXPECT_NE(text.find("\nstagehost_runner_jobs_running 0\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("stagehost_runner_jobs_finished_total{"), std::string::npos);
  metrics.Add("stagehost_runner_retries_total", {"a", "b"}, 1);  // wrong label count: ignored
  metrics.Add("no_such_metric", {}, 1);
  metrics.Set("jobs_running", {}, 7);
  text = metrics.Render();
  EXPECT_EQ(text.find("retries_total{"), std::string::npos);
  EXPECT_NE(text.find("\nstagehost_runner_jobs_running 7\n"), std::string::npos);
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(RunnerMetricsTest, CountsFromManyThreads) {
  RunnerMetrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        metrics.ApiRequest("jobs/request", 204);
        metrics.TraceBytesSent(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::string text = metrics.Render();
  EXPECT_NE(text.find(R"({endpoint="jobs/request",status="204"} 4000)"), std::string::npos);
  EXPECT_NE(text.find("stagehost_runner_trace_bytes_sent_total 4000\n"), std::string::npos);
}

TEST(MetricsServerTest, ServesMetricsOnlyAndStopsCleanly) {
  RunnerMetrics metrics;
  metrics.JobFinished("failed");
  Result<std::unique_ptr<MetricsServer>> server = MetricsServer::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  int port = (*server)->port();
  ASSERT_GT(port, 0);

  HttpAnswer ok = HttpRequest(port, "GET", "/metrics");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_EQ(ok.body, metrics.Render());
  EXPECT_EQ(HttpRequest(port, "GET", "/metrics?x=1").status, 200);
  HttpAnswer head = HttpRequest(port, "HEAD", "/metrics");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(HttpRequest(port, "GET", "/").status, 404);
  EXPECT_EQ(HttpRequest(port, "GET", "/metricsx").status, 404);
  EXPECT_EQ(HttpRequest(port, "POST", "/metrics").status, 405);

  // A client that connects and says nothing does not keep Stop() waiting.
  int idle = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto started = std::chrono::steady_clock::now();
  (*server)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  close(idle);
  EXPECT_EQ(HttpRequest(port, "GET", "/metrics").status, 0);  // nothing listens any more
  (*server)->Stop();                                          // idempotent
}

TEST(MetricsServerTest, RefusesBadAddresses) {
  RunnerMetrics metrics;
  for (std::string bad : {"nohost", "127.0.0.1:99999", "127.0.0.1:x"}) {
    Result<std::unique_ptr<MetricsServer>> server = MetricsServer::Start(bad, metrics);
    EXPECT_FALSE(server.ok()) << bad;
  }
  Result<std::unique_ptr<MetricsServer>> first = MetricsServer::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(first.ok());
  Result<std::unique_ptr<MetricsServer>> taken =
      MetricsServer::Start("127.0.0.1:" + std::to_string((*first)->port()), metrics);
  EXPECT_FALSE(taken.ok());
}

// A real Prometheus scrapes the endpoint every second; its query API must return our counter.
TEST(MetricsServerTest, RealPrometheusScrapesTheEndpoint) {
  const char* prometheus = "/usr/bin/prometheus";
  ASSERT_EQ(access(prometheus, X_OK), 0) << "scripts/install-deps.sh installs prometheus";
  RunnerMetrics metrics;
  for (int i = 0; i < 3; ++i) {
    metrics.JobStarted();
    metrics.JobFinished("success");
  }
  Result<std::unique_ptr<MetricsServer>> server = MetricsServer::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  std::string templ = ::testing::TempDir() + "metrics_prometheus.XXXXXX";
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  fs::path dir = templ;
  std::ofstream(dir / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: stagehost\n    scrape_interval: 1s\n"
      << "    static_configs:\n      - targets: ['127.0.0.1:" << (*server)->port() << "']\n";
  int web_port = testutil::FreeLoopbackPort();
  std::string log_path = (dir / "prometheus.log").string();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, 1);
    dup2(log, 2);
    std::string config = "--config.file=" + (dir / "prometheus.yml").string();
    std::string storage = "--storage.tsdb.path=" + (dir / "data").string();
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(web_port);
    execl(prometheus, "prometheus", config.c_str(), storage.c_str(), listen.c_str(),
          "--log.level=warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(pid, 0);

  std::string seen;
  bool found = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!found && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    HttpAnswer answer =
        HttpRequest(web_port, "GET", "/api/v1/query?query=stagehost_runner_jobs_finished_total");
    if (answer.status != 200) continue;
    seen = answer.body;
    nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
    if (body.is_discarded() || !body.contains("data")) continue;
    for (const nlohmann::json& sample : body["data"].value("result", nlohmann::json::array())) {
      if (sample["metric"].value("state", "") == "success" &&
          sample["metric"].value("job", "") == "stagehost" && sample["value"][1] == "3") {
        found = true;
      }
    }
  }
  kill(-pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream log_file(log_path);
  std::stringstream log;
  log << log_file.rdbuf();
  EXPECT_TRUE(found) << "last answer: " << seen << "\nprometheus log:\n" << log.str();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace stagehost::gitlab
