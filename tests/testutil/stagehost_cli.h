// stagehost_cli.h -- helpers for tests that run the real `stagehost` binary against fixture
// plugins: paths from the build, temporary directories, file and digest helpers.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "testutil/run_process.h"

// The host lived through whatever the plugin did: it exited by itself, within the test's limit.
#define ASSERT_HOST_SURVIVED(r)                                                       \
  do {                                                                                \
    ASSERT_TRUE((r).started) << (r).error;                                            \
    ASSERT_FALSE((r).timed_out) << (r).Describe();                                    \
    ASSERT_TRUE((r).exited) << "stagehost did not exit normally: " << (r).Describe(); \
  } while (0)

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "missing: " << (needle)

namespace stagehost::testutil {

// True when this test binary is built with AddressSanitizer (RSS and rlimit checks are skipped).
constexpr bool kBuiltWithAsan =
#if defined(__SANITIZE_ADDRESS__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

std::string StagehostBinary();
// build/<preset>/fixtures/<name>: the folder holding exactly one fixture plugin.
std::string FixtureDir(std::string_view name);
// build/<preset>/fixtures/<name>/<name>.so
std::string FixturePath(std::string_view name);

// A fresh 0700 directory under $TMPDIR (or /tmp), removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Creates (if needed) and returns path()/name.
  std::string Sub(std::string_view name) const;

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
// Creates missing parent directories.
void WriteFile(const std::string& path, std::string_view contents, unsigned mode = 0644);
// Copies a file, giving the copy `mode`.
void CopyFile(const std::string& from, const std::string& to, unsigned mode = 0755);
bool FileExists(const std::string& path);

// SHA-256 (OpenSSL EVP): raw 32 bytes, or lowercase hex.
std::string Sha256Raw(std::string_view bytes);
std::string Sha256Hex(std::string_view bytes);
std::string Sha256FileHex(const std::string& path);

// Runs `stagehost <args>` with STAGEHOST_PLUGIN_PATH=plugin_path, the test's environment minus
// STAGEHOST_* job variables and FIXTURE_SECRET, plus `env`, in `cwd` (if not empty).
struct StagehostCall {
  std::vector<std::string> args;
  std::string plugin_path;
  std::map<std::string, std::string> env;
  std::string cwd;
  std::chrono::milliseconds timeout{20000};
  std::optional<std::chrono::milliseconds> signal_after;
  int signal_number = 0;
};
ProcessResult RunStagehost(const StagehostCall& call);

// True iff the process `pid` no longer exists (ESRCH) or is a zombie, polling for up to `wait`.
bool ProcessGone(pid_t pid, std::chrono::milliseconds wait);

}  // namespace stagehost::testutil
