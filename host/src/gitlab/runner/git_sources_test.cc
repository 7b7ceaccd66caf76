// FetchSources against real bare repositories: served by `git daemon` on loopback and by file://.
#include "gitlab/runner/git_sources.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "testutil/free_port.h"
#include "testutil/run_process.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::gitlab {
namespace {
namespace fs = std::filesystem;

constexpr char kToken[] = "glcbt-SeCrEtJobToken42";

// Runs git for the fixtures; fails the test with git's stderr when it fails.
std::string Git(const fs::path& cwd, std::vector<std::string> args) {
  testutil::ProcessOptions options;
  options.argv = {"/usr/bin/git"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.cwd = cwd.string();
  options.env = {{"GIT_AUTHOR_NAME", "t"},          {"GIT_AUTHOR_EMAIL", "t@example.com"},
                 {"GIT_COMMITTER_NAME", "t"},       {"GIT_COMMITTER_EMAIL", "t@example.com"},
                 {"GIT_CONFIG_NOSYSTEM", "1"},      {"HOME", cwd.string()},
                 {"GIT_ALLOW_PROTOCOL", "file:git"}};
  testutil::ProcessResult r = testutil::RunProcess(options);
  EXPECT_TRUE(r.exited && r.exit_code == 0) << "git " << args[0] << ": " << r.Describe();
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// Repositories shared by every test: project.git (4 commits on main), and super.git whose
// submodule sub.git has a nested submodule nested.git, with relative URLs as GitLab projects use.
class GitSourcesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string templ = ::testing::TempDir() + "git_sources_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    shas_.clear();  // --gtest_repeat runs this again
    base_ = root_ / "base";
    fs::create_directories(base_);
    fs::path work = root_ / "work";
    fs::create_directories(work);
    Git(work, {"init", "-q", "-b", "main"});
    testutil::WriteFile(work / ".gitignore", "build/\n");
    for (int i = 1; i <= 4; ++i) {
      testutil::WriteFile(work / "a.txt", "v" + std::to_string(i) + "\n");
      Git(work, {"add", "-A"});
      Git(work, {"commit", "-q", "-m", "c" + std::to_string(i)});
      shas_.push_back(Git(work, {"rev-parse", "HEAD"}));
    }
    Git(base_, {"init", "-q", "-b", "main", "--bare", "project.git"});
    Git(work, {"push", "-q", (base_ / "project.git").string(), "main:refs/heads/main"});

    auto make_repo = [&](const std::string& name, const std::string& file,
                         const std::string& child) {
      fs::path dir = root_ / ("w-" + name);
      fs::create_directories(dir);
      Git(dir, {"init", "-q", "-b", "main"});
      testutil::WriteFile(dir / file, name + "\n");
      if (!child.empty()) {
        Git(dir, {"-c", "protocol.file.allow=always", "submodule", "add", "-q",
                  (base_ / (child + ".git")).string(), child});
        Git(dir,
            {"config", "-f", ".gitmodules", "submodule." + child + ".url", "../" + child + ".git"});
      }
      Git(dir, {"add", "-A"});
      Git(dir, {"commit", "-q", "-m", name});
      Git(base_, {"init", "-q", "-b", "main", "--bare", name + ".git"});
      Git(dir, {"push", "-q", (base_ / (name + ".git")).string(), "main:refs/heads/main"});
      return Git(dir, {"rev-parse", "HEAD"});
    };
    make_repo("nested", "nested.txt", "");
    make_repo("sub", "sub.txt", "nested");
    super_sha_ = make_repo("super", "super.txt", "sub");

    port_ = testutil::FreeLoopbackPort();
    daemon_ = fork();
    if (daemon_ == 0) {
      setpgid(0, 0);
      // Its "hung up" lines (readiness probes, failing tests) go to a file, not the test output.
      int log = open((root_ / "daemon.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, 2);
      std::string base_path = "--base-path=" + base_.string();
      std::string port = "--port=" + std::to_string(port_);
      execl("/usr/bin/git", "git", "daemon", "--export-all", "--reuseaddr", "--listen=127.0.0.1",
            port.c_str(), base_path.c_str(), base_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !CanConnect(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(CanConnect(port_)) << "git daemon did not start";
  }

  static void TearDownTestSuite() {
    if (daemon_ > 0) {
      kill(-daemon_, SIGTERM);
      waitpid(daemon_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static std::string DaemonUrl(const std::string& repo, bool with_token = true) {
    return std::string("git://") +
           (with_token ? std::string("gitlab-ci-token:") + kToken + "@" : "") +
           "127.0.0.1:" + std::to_string(port_) + "/" + repo;
  }

  // Pushes one more commit to project.git; returns its sha.
  static std::string PushCommit(const std::string& text) {
    fs::path work = root_ / "work";
    testutil::WriteFile(work / "a.txt", text);
    Git(work, {"commit", "-q", "-am", text});
    Git(work, {"push", "-q", (base_ / "project.git").string(), "main:refs/heads/main"});
    return Git(work, {"rev-parse", "HEAD"});
  }

  GitSourcesRequest Request(const std::string& url, const std::string& sha, int depth = 0) {
    GitSourcesRequest request;
    request.project_dir = root_ / ("build-" + std::to_string(counter_++));
    request.git_info = {{"repo_url", url},
                        {"ref", "main"},
                        {"sha", sha},
                        {"ref_type", "branch"},
                        {"refspecs", {"+refs/heads/main:refs/remotes/origin/main"}},
                        {"depth", depth}};
    request.job_token = kToken;
    return request;
  }

  Result<SourcesReport> Fetch(const GitSourcesRequest& request) {
    return FetchSources(
        request, [this](std::string_view text) { log_.append(text); }, -1);
  }

  void ExpectNoToken(const GitSourcesRequest& request) {
    EXPECT_EQ(log_.find(kToken), std::string::npos) << log_;
    fs::path config = request.project_dir / ".git" / "config";
    if (fs::exists(config)) EXPECT_EQ(testutil::ReadFile(config).find(kToken), std::string::npos);
  }

  static inline fs::path root_, base_;
  static inline std::vector<std::string> shas_;
  static inline std::string super_sha_;
  static inline int port_ = 0;
  static inline pid_t daemon_ = -1;
  static inline int counter_ = 0;
  std::string log_;
};

TEST_F(GitSourcesTest, ClonesTheExactShaNotTheBranchTipOverGitDaemon) {
  GitSourcesRequest request = Request(DaemonUrl("project.git"), shas_[1]);
  request.variables["GIT_STRATEGY"] = "clone";
  Result<SourcesReport> report = Fetch(request);
  ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n" << log_;
  EXPECT_EQ(report->sha, shas_[1]);
  EXPECT_TRUE(report->fresh_repository);
  EXPECT_EQ(testutil::ReadFile(request.project_dir / "a.txt"), "v2\n");
  EXPECT_NE(log_.find("Fetching changes..."), std::string::npos) << log_;
  EXPECT_NE(log_.find("Created fresh repository."), std::string::npos);
  EXPECT_NE(
      log_.find("Checking out " + shas_[1].substr(0, 8) + " as detached HEAD (ref is main)..."),
      std::string::npos)
      << log_;
  EXPECT_NE(log_.find("Skipping Git submodules setup"), std::string::npos);
  // origin is set without the credentials; nothing holds the token.
  EXPECT_EQ(Git(request.project_dir, {"config", "remote.origin.url"}),
            DaemonUrl("project.git", false));
  ExpectNoToken(request);
}

TEST_F(GitSourcesTest, FileUrlWithCredentialsWorksAndLeaksNothing) {
  std::string url =
      std::string("file://gitlab-ci-token:") + kToken + "@" + (base_ / "project.git").string();
  GitSourcesRequest request = Request(url, shas_[3]);
  Result<SourcesReport> report = Fetch(request);
  ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n" << log_;
  EXPECT_EQ(report->sha, shas_[3]);
  EXPECT_EQ(Git(request.project_dir, {"config", "remote.origin.url"}),
            "file://" + (base_ / "project.git").string());
  ExpectNoToken(request);
}

TEST_F(GitSourcesTest, FetchReusesTheCheckoutAndCleansIt) {
  GitSourcesRequest request = Request(DaemonUrl("project.git"), shas_[3]);
  ASSERT_TRUE(Fetch(request).ok()) << log_;
  testutil::WriteFile(request.project_dir / ".git" / "stagehost-marker", "kept");
  testutil::WriteFile(request.project_dir / "junk.txt", "untracked");
  testutil::WriteFile(request.project_dir / "build" / "out.o", "ignored");
  testutil::WriteFile(request.project_dir / ".git" / "index.lock", "");  // left by a killed git
  std::string next = PushCommit("v5\n");
  request.git_info["sha"] = next;
  log_.clear();
  Result<SourcesReport> report = Fetch(request);
  ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n" << log_;
  EXPECT_FALSE(report->fresh_repository);
  EXPECT_EQ(report->sha, next);
  EXPECT_NE(log_.find("Reinitialized existing Git repository"), std::string::npos) << log_;
  EXPECT_TRUE(fs::exists(request.project_dir / ".git" / "stagehost-marker"));
  EXPECT_FALSE(fs::exists(request.project_dir / "junk.txt"));         // -ffdx
  EXPECT_FALSE(fs::exists(request.project_dir / "build" / "out.o"));  // x: ignored files too
  EXPECT_EQ(testutil::ReadFile(request.project_dir / "a.txt"), "v5\n");

  // clone wipes what fetch keeps.
  request.variables["GIT_STRATEGY"] = "clone";
  ASSERT_TRUE(Fetch(request).ok()) << log_;
  EXPECT_FALSE(fs::exists(request.project_dir / ".git" / "stagehost-marker"));
  ExpectNoToken(request);
}

TEST_F(GitSourcesTest, CleanFlagsNoneKeepsUntrackedFiles) {
  GitSourcesRequest request = Request(DaemonUrl("project.git"), shas_[0]);
  ASSERT_TRUE(Fetch(request).ok()) << log_;
  testutil::WriteFile(request.project_dir / "junk.txt", "untracked");
  request.variables["GIT_CLEAN_FLAGS"] = "none";
  ASSERT_TRUE(Fetch(request).ok()) << log_;
  EXPECT_TRUE(fs::exists(request.project_dir / "junk.txt"));
}

TEST_F(GitSourcesTest, DepthFromPayloadAndGitDepthOverride) {
  // Other tests push to main: take the tip and its parent as they are now.
  std::string tip = Git(base_ / "project.git", {"rev-parse", "main"});
  std::string parent = Git(base_ / "project.git", {"rev-parse", "main~1"});
  GitSourcesRequest request = Request(DaemonUrl("project.git"), tip, /*depth=*/1);
  Result<SourcesReport> report = Fetch(request);
  ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n" << log_;
  EXPECT_EQ(report->depth, 1);
  EXPECT_NE(log_.find("Fetching changes with git depth set to 1..."), std::string::npos) << log_;
  EXPECT_EQ(Git(request.project_dir, {"rev-list", "--count", "HEAD"}), "1");
  EXPECT_TRUE(fs::exists(request.project_dir / ".git" / "shallow"));

  GitSourcesRequest deeper = Request(DaemonUrl("project.git"), parent, /*depth=*/50);
  deeper.variables["GIT_DEPTH"] = "2";
  ASSERT_TRUE(Fetch(deeper).ok()) << log_;
  EXPECT_NE(log_.find("Fetching changes with git depth set to 2..."), std::string::npos);
  EXPECT_EQ(Git(deeper.project_dir, {"rev-parse", "HEAD"}), parent);
  EXPECT_EQ(Git(deeper.project_dir, {"rev-list", "--count", "HEAD"}), "1");

  // GIT_DEPTH=0: full history, and an existing shallow checkout is unshallowed.
  request.variables["GIT_DEPTH"] = "0";
  ASSERT_TRUE(Fetch(request).ok()) << log_;
  EXPECT_FALSE(fs::exists(request.project_dir / ".git" / "shallow"));
  EXPECT_GE(std::stoi(Git(request.project_dir, {"rev-list", "--count", "HEAD"})), 4);
}

TEST_F(GitSourcesTest, ShaOutsideTheDepthFailsNamingTheCommand) {
  GitSourcesRequest request = Request(DaemonUrl("project.git"), shas_[0], /*depth=*/1);
  request.git_info["sha"] = shas_[0];
  Result<SourcesReport> report = Fetch(request);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(report.status().message().find("`git checkout -f -q " + shas_[0] + "` failed"),
            std::string::npos)
      << report.status().message();
}

TEST_F(GitSourcesTest, FetchErrorsAreMaskedAndNameTheCommand) {
  GitSourcesRequest request = Request(DaemonUrl("missing.git"), shas_[0]);
  Result<SourcesReport> report = Fetch(request);
  ASSERT_FALSE(report.ok());
  const std::string& message = report.status().message();
  EXPECT_NE(message.find("`git fetch origin --prune"), std::string::npos) << message;
  EXPECT_EQ(message.find(kToken), std::string::npos) << message;
  ExpectNoToken(request);
}

TEST_F(GitSourcesTest, SubmodulesNormalAndRecursive) {
  GitSourcesRequest normal = Request(DaemonUrl("super.git"), super_sha_);
  normal.variables["GIT_SUBMODULE_STRATEGY"] = "normal";
  ASSERT_TRUE(Fetch(normal).ok()) << log_;
  EXPECT_NE(log_.find("Updating/initializing submodules..."), std::string::npos) << log_;
  EXPECT_EQ(testutil::ReadFile(normal.project_dir / "sub" / "sub.txt"), "sub\n");
  EXPECT_FALSE(fs::exists(normal.project_dir / "sub" / "nested" / "nested.txt"));

  log_.clear();
  GitSourcesRequest recursive = Request(DaemonUrl("super.git"), super_sha_);
  recursive.variables["GIT_SUBMODULE_STRATEGY"] = "recursive";
  ASSERT_TRUE(Fetch(recursive).ok()) << log_;
  EXPECT_NE(log_.find("Updating/initializing submodules recursively..."), std::string::npos);
  EXPECT_EQ(testutil::ReadFile(recursive.project_dir / "sub" / "nested" / "nested.txt"),
            "nested\n");
  // Relative submodule URLs resolve against the credential-free origin.
  EXPECT_EQ(testutil::ReadFile(recursive.project_dir / ".git" / "modules" / "sub" / "config")
                .find(kToken),
            std::string::npos);
  ExpectNoToken(recursive);
}

TEST_F(GitSourcesTest, NoneStrategyLeavesTheDirectoryAlone) {
  GitSourcesRequest request = Request(DaemonUrl("project.git"), shas_[0]);
  request.variables["GIT_STRATEGY"] = "none";
  testutil::WriteFile(request.project_dir / "mine.txt", "mine");
  Result<SourcesReport> report = Fetch(request);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->strategy, GitStrategy::kNone);
  EXPECT_FALSE(report->checked_out);
  EXPECT_TRUE(fs::exists(request.project_dir / "mine.txt"));
  EXPECT_FALSE(fs::exists(request.project_dir / ".git"));
  EXPECT_NE(log_.find("Skipping Git repository setup"), std::string::npos);
}

TEST_F(GitSourcesTest, CheckoutFalseFetchesWithoutCheckingOut) {
  GitSourcesRequest request = Request(DaemonUrl("project.git"), shas_[0]);
  request.variables["GIT_CHECKOUT"] = "false";
  Result<SourcesReport> report = Fetch(request);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->checked_out);
  EXPECT_FALSE(fs::exists(request.project_dir / "a.txt"));
  EXPECT_NE(log_.find("Skipping Git checkout"), std::string::npos);
}

TEST_F(GitSourcesTest, BadVariablesAreConfigErrors) {
  for (auto [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"GIT_STRATEGY", "bogus"},
                                                        {"GIT_DEPTH", "-3"},
                                                        {"GIT_SUBMODULE_STRATEGY", "all"},
                                                        {"GIT_CHECKOUT", "maybe"}}) {
    GitSourcesRequest request = Request(DaemonUrl("project.git"), shas_[0]);
    request.variables[key] = value;
    Result<SourcesReport> report = Fetch(request);
    ASSERT_FALSE(report.ok()) << key;
    EXPECT_EQ(report.status().code(), StatusCode::kInvalidConfig) << key;
    EXPECT_NE(report.status().message().find(key), std::string::npos);
  }
}

// An http remote that demands Basic auth: git must answer with the job token, which it can only
// have from the credential helper's environment (the URL it was given has none).
TEST_F(GitSourcesTest, HttpCredentialsComeFromTheHelperOnly) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  std::vector<std::string> requests;
  std::thread server([&] {
    // Two exchanges: the anonymous try (401) and the authenticated one (404: no such repo).
    for (int i = 0; i < 2; ++i) {
      int client = accept(listener, nullptr, nullptr);
      if (client < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, n);
      }
      requests.push_back(request);
      std::string answer =
          request.find("Authorization:") == std::string::npos
              ? "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"gitlab\"\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n"
              : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      close(client);
    }
  });
  std::string url = std::string("http://gitlab-ci-token:") + kToken +
                    "@127.0.0.1:" + std::to_string(port) + "/group/project.git";
  GitSourcesRequest request = Request(url, shas_[0]);
  Result<SourcesReport> report = Fetch(request);
  shutdown(listener, SHUT_RDWR);
  server.join();
  close(listener);
  ASSERT_FALSE(report.ok());
  ASSERT_EQ(requests.size(), 2u) << log_;
  EXPECT_EQ(requests[0].find("Authorization:"), std::string::npos);
  EXPECT_NE(requests[1].find("Authorization: Basic "
                             "Z2l0bGFiLWNpLXRva2VuOmdsY2J0LVNlQ3JFdEpvYlRva2VuNDI="),
            std::string::npos)
      << requests[1];
  EXPECT_EQ(report.status().message().find(kToken), std::string::npos);
  EXPECT_EQ(Git(request.project_dir, {"config", "remote.origin.url"}),
            "http://127.0.0.1:" + std::to_string(port) + "/group/project.git");
  ExpectNoToken(request);
}

TEST(StripUrlCredentialsTest, RemovesUserinfoOnly) {
  std::string user, password;
  EXPECT_EQ(StripUrlCredentials("https://gitlab-ci-token:abc@gitlab.example.com/g/p.git", &user,
                                &password),
            "https://gitlab.example.com/g/p.git");
  EXPECT_EQ(user, "gitlab-ci-token");
  EXPECT_EQ(password, "abc");
  EXPECT_EQ(StripUrlCredentials("https://gitlab.example.com/g/p@x.git"),
            "https://gitlab.example.com/g/p@x.git");
  EXPECT_EQ(StripUrlCredentials("git@gitlab.example.com:g/p.git"),
            "git@gitlab.example.com:g/p.git");
}

}  // namespace
}  // namespace stagehost::gitlab
