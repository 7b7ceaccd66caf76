#include "testutil/stagehost_cli.h"

#include <errno.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace stagehost::testutil {

namespace fs = std::filesystem;

std::string StagehostBinary() { return STAGEHOST_BINARY; }

std::string FixtureDir(std::string_view name) {
  return std::string(STAGEHOST_FIXTURE_DIR) + "/" + std::string(name);
}

std::string FixturePath(std::string_view name) {
  return FixtureDir(name) + "/" + std::string(name) + ".so";
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/stagehost-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string TempDir::Sub(std::string_view name) const {
  std::string sub = path_ + "/" + std::string(name);
  fs::create_directories(sub);
  return sub;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, std::string_view contents, unsigned mode) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
  }
  if (chmod(path.c_str(), mode) != 0) throw std::runtime_error("chmod " + path);
}

void CopyFile(const std::string& from, const std::string& to, unsigned mode) {
  WriteFile(to, ReadFile(from), mode);
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

std::string Sha256Raw(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Sha256Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw = Sha256Raw(bytes);
  std::string hex;
  for (unsigned char c : raw) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 0xF]);
  }
  return hex;
}

std::string Sha256FileHex(const std::string& path) { return Sha256Hex(ReadFile(path)); }

ProcessResult RunStagehost(const StagehostCall& call) {
  ProcessOptions options;
  options.argv.push_back(StagehostBinary());
  options.argv.insert(options.argv.end(), call.args.begin(), call.args.end());
  options.env = call.env;
  options.env["STAGEHOST_PLUGIN_PATH"] = call.plugin_path;
  options.unset_env = {
      "STAGEHOST_STAGE",        "STAGEHOST_CONFIG",           "STAGEHOST_ALLOW_LIST",
      "STAGEHOST_TRUSTED_KEYS", "STAGEHOST_MASKED_VARIABLES", "FIXTURE_SECRET"};
  options.cwd = call.cwd;
  options.timeout = call.timeout;
  options.signal_after = call.signal_after;
  options.signal_number = call.signal_number;
  return RunProcess(options);
}

bool ProcessGone(pid_t pid, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (kill(pid, 0) != 0 && errno == ESRCH) return true;
    // A zombie is dead; only its parent (or init) has not reaped it yet.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (std::getline(stat, line)) {
      auto close_paren = line.rfind(')');
      if (close_paren != std::string::npos && close_paren + 2 < line.size() &&
          line[close_paren + 2] == 'Z') {
        return true;
      }
    } else {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace stagehost::testutil
