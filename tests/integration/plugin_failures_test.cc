// One test per fixture plugin (tests/fixture_plugins/): each runs the real `stagehost` binary with
// only that fixture's folder on STAGEHOST_PLUGIN_PATH and checks that the host survived (it exited
// normally, not by a signal), its exit code (0 passed, 1 stage failed, 2 system failure) and its
// message on stderr. See shared/reference/plugin-abi.md §13, §14 and §16.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "testutil/run_process.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::testutil {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class PluginFailures : public ::testing::Test {
 protected:
  // `stagehost run STAGE --workspace W --artifacts A <extra>` with only `fixture`'s folder on the
  // plugin path (or `plugin_path` when given).
  ProcessResult Run(const std::string& fixture, const std::string& stage,
                    std::vector<std::string> extra = {}, StagehostCall call = {}) {
    call.args = {"run", stage, "--workspace", workspace_, "--artifacts", artifacts_};
    call.args.insert(call.args.end(), extra.begin(), extra.end());
    if (call.plugin_path.empty()) call.plugin_path = FixtureDir(fixture);
    if (call.cwd.empty()) call.cwd = tmp_.path();
    return RunStagehost(call);
  }

  // A fixture the host must refuse at load time: exit 2 with `message` on stderr. The stage is
  // selected by a name only this fixture could have had (its fixture name with '-' for '_'), so
  // no other plugin beside the binary can be picked instead and the refusal must be explained.
  void ExpectRefused(const std::string& fixture, const std::string& message) {
    std::string stage = fixture;
    std::replace(stage.begin(), stage.end(), '_', '-');
    ProcessResult r = Run(fixture, stage);
    ASSERT_HOST_SURVIVED(r);
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_CONTAINS(r.err, message) << r.Describe();
    EXPECT_CONTAINS(r.err, "stagehost: ");
  }

  json RunRecord() const {
    std::string path = artifacts_ + "/stagehost-run.json";
    if (!FileExists(path)) {
      ADD_FAILURE() << "no " << path;
      return json();
    }
    try {
      return json::parse(ReadFile(path));
    } catch (const std::exception& e) {
      ADD_FAILURE() << path << " is not JSON: " << e.what();
      return json();
    }
  }

  // Reads "<pid> <pid>..." that infinite_loop wrote into the workspace.
  std::vector<pid_t> FixturePids() const {
    std::vector<pid_t> pids;
    std::ifstream in(workspace_ + "/infinite_loop.pids");
    long pid = 0;
    while (in >> pid) pids.push_back(static_cast<pid_t>(pid));
    return pids;
  }

  // Every process of the worker's group that infinite_loop recorded is gone. Kills survivors so a
  // failing host does not leave them behind.
  void ExpectWorkerGroupGone() {
    std::vector<pid_t> pids = FixturePids();
    ASSERT_EQ(pids.size(), 2u) << "infinite_loop did not record its worker and grandchild pids";
    for (pid_t pid : pids) {
      ASSERT_GT(pid, 0);
      bool gone = ProcessGone(pid, 1000ms);
      EXPECT_TRUE(gone) << "process " << pid << " of the worker's group survived";
      if (!gone) kill(pid, SIGKILL);
    }
  }

  TempDir tmp_;
  std::string workspace_ = tmp_.Sub("workspace");
  std::string artifacts_ = tmp_.Sub("artifacts");
};

// --- refused at load (§13 steps 4-8) ------------------------------------------------------------

TEST_F(PluginFailures, AbiMajorMismatchIsRefused) {
  ExpectRefused("abi_major_mismatch",
                "plugin needs ABI 2.0, host provides 1.0: major versions differ");
}

TEST_F(PluginFailures, AbiMinorNewerIsRefused) {
  ExpectRefused("abi_minor_newer", "plugin needs ABI 1.1, host provides 1.0: host minor too old");
}

TEST_F(PluginFailures, AbiMinorOlderShortDescriptorLoadsAndRuns) {
  ProcessResult r = Run("abi_minor_older_short", "abi-minor-older-short");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out, "abi-minor-older-short: ran with a 1.0-sized descriptor") << r.Describe();
}

TEST_F(PluginFailures, MissingEntryIsNotAPlugin) {
  ExpectRefused("missing_entry", "not a stagehost plugin: no stagehost_plugin_entry symbol");
}

TEST_F(PluginFailures, EntryReturningNullDeclines) {
  ExpectRefused("entry_returns_null", "plugin declined host ABI 1.0");
}

TEST_F(PluginFailures, NullRunIsRefused) {
  ExpectRefused("null_run", "descriptor member 'run' is NULL");
}

TEST_F(PluginFailures, NullCreateIsRefused) {
  ExpectRefused("null_create", "descriptor member 'create' is NULL");
}

TEST_F(PluginFailures, StructSizeSmallerThanV10IsRefused) {
  ExpectRefused("struct_size_small", "descriptor struct_size 8 is smaller than the ABI 1.0 layout");
}

TEST_F(PluginFailures, BadNameIsRefused) {
  ExpectRefused("bad_name", "invalid plugin name \"Bad Name!\"");
}

TEST_F(PluginFailures, BadSemverIsRefused) {
  ExpectRefused("bad_semver", "invalid plugin version \"1.x\"");
}

TEST_F(PluginFailures, InvalidSchemaIsRefused) {
  ExpectRefused("invalid_schema", "invalid config schema");
}

TEST_F(PluginFailures, UndefinedSymbolFailsAtLoad) {
  // dlerror() text: proves RTLD_NOW (lazy binding would crash mid-run instead).
  ExpectRefused("undefined_symbol", "undefined symbol");
}

TEST_F(PluginFailures, AbortInStaticConstructorIsContained) {
  ExpectRefused("abort_in_static_ctor", "plugin crashed while loading: SIGABRT");
}

TEST_F(PluginFailures, HostMessagesAreLinesPrefixedStagehost) {
  // stagehost's own messages go to stderr, every line starting "stagehost: " (a refusal is the
  // case where nothing but the host writes there).
  ProcessResult r = Run("missing_entry", "missing-entry");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  std::istringstream lines(r.err);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    EXPECT_EQ(line.rfind("stagehost: ", 0), 0u) << "stderr line without the prefix: " << line;
  }
}

// --- crashes and exceptions while running (§14) -----------------------------------------------

TEST_F(PluginFailures, SegvInRunIsContained) {
  ProcessResult r = Run("segv_in_run", "segv-in-run");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "plugin crashed: SIGSEGV") << r.Describe();
  EXPECT_CONTAINS(r.out, "segv-in-run: about to dereference NULL") << r.Describe();
}

TEST_F(PluginFailures, RawExceptionThroughTheCAbiIsContained) {
  ProcessResult r = Run("throws_raw", "throws-raw");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "plugin crashed: SIGABRT") << r.Describe();
}

TEST_F(PluginFailures, SdkExceptionBecomesPluginError) {
  ProcessResult r = Run("throws_sdk", "throws-sdk");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "boom from run") << r.Describe();
  EXPECT_EQ(r.err.find("crashed"), std::string::npos) << "an SDK exception is not a crash\n"
                                                      << r.Describe();
}

// --- hangs, timeout and cancel ------------------------------------------------------------------

TEST_F(PluginFailures, InfiniteLoopTimesOutAndWholeGroupIsKilled) {
  StagehostCall call;
  call.timeout = 20s;
  ProcessResult r = Run("infinite_loop", "infinite-loop",
                        {"--timeout", "1", "--cancel-grace", "1", "--kill-grace", "1"}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_CONTAINS(r.err, "timed out after 1 s") << r.Describe();
  // timeout + cancel grace + kill grace + 3 s of slack.
  EXPECT_LT(r.wall, 6000ms) << r.Describe();
  ExpectWorkerGroupGone();
}

TEST_F(PluginFailures, SigtermCancelsCooperativePluginPromptly) {
  StagehostCall call;
  call.signal_after = 500ms;
  call.signal_number = SIGTERM;
  ProcessResult r = Run("cooperative_cancel", "cooperative-cancel", {}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_TRUE(r.signal_sent);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "cancelled") << r.Describe();
  // The default grace periods (10 s + 5 s) are never needed: the plugin stops by itself.
  EXPECT_LT(r.wall, 2000ms) << r.Describe();
  // The plugin's own error message travels with the CANCELLED status.
  EXPECT_CONTAINS(r.err, "cooperative-cancel: stopped on request") << r.Describe();
}

TEST_F(PluginFailures, SigintCancelsCooperativePluginPromptly) {
  StagehostCall call;
  call.signal_after = 500ms;
  call.signal_number = SIGINT;
  ProcessResult r = Run("cooperative_cancel", "cooperative-cancel", {}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_TRUE(r.signal_sent);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "cancelled") << r.Describe();
  EXPECT_LT(r.wall, 2000ms) << r.Describe();
}

TEST_F(PluginFailures, SigtermKillsUncooperativePluginAfterGraces) {
  StagehostCall call;
  call.signal_after = 500ms;
  call.signal_number = SIGTERM;
  ProcessResult r =
      Run("infinite_loop", "infinite-loop", {"--cancel-grace", "1", "--kill-grace", "1"}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_TRUE(r.signal_sent);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "cancelled") << r.Describe();
  // signal at 0.5 s + cancel grace 1 s (SIGTERM, ignored) + kill grace 1 s (SIGKILL) + 3 s slack.
  EXPECT_LT(r.wall, 5500ms) << r.Describe();
  EXPECT_GE(r.wall, 2000ms) << "the plugin ignores cancel and SIGTERM: only SIGKILL after both "
                               "graces can have stopped it\n"
                            << r.Describe();
  ExpectWorkerGroupGone();
}

// --- output -------------------------------------------------------------------------------------

TEST_F(PluginFailures, LogFloodIsCappedWithBoundedMemory) {
  constexpr std::size_t kLimit = 10000000;
  StagehostCall call;
  call.timeout = 40s;
  ProcessResult r = Run("log_flood", "log-flood", {"--log-limit", std::to_string(kLimit)}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_LE(r.out.size(), kLimit + 1024) << "the stage log was not capped";
  EXPECT_GT(r.out.size(), kLimit / 2) << "the log should be filled up to about its limit";
  bool notice = r.out.find("log truncated") != std::string::npos ||
                r.err.find("log truncated") != std::string::npos;
  EXPECT_TRUE(notice) << "no 'log truncated' notice\n" << r.err;
  // The run record's figures, not wait4's: a spawned child inherits its spawner's RSS high-water
  // mark at exec, so r.peak_rss_kib reflects this test process as much as stagehost.
  json resources = RunRecord()["resources"];
  ASSERT_TRUE(resources.contains("worker_peak_rss_kib")) << resources.dump();
  EXPECT_GT(resources["worker_peak_rss_kib"].get<uint64_t>(), 0u);
  EXPECT_GT(resources["host_peak_rss_kib"].get<uint64_t>(), 0u);
  if (!kBuiltWithAsan) {
    EXPECT_LT(resources["host_peak_rss_kib"].get<uint64_t>(), 32u * 1024) << resources.dump();
    EXPECT_LT(resources["worker_peak_rss_kib"].get<uint64_t>(), 32u * 1024) << resources.dump();
  }
}

TEST_F(PluginFailures, PrintfNoiseIsCapturedWithoutCorruptingTheProtocol) {
  ProcessResult r = Run("printf_noise", "printf-noise");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out, "printf-noise: raw stdout via printf") << r.Describe();
  EXPECT_CONTAINS(r.out, "printf-noise: raw stdout via write(1)") << r.Describe();
  EXPECT_CONTAINS(r.out, "printf-noise: via the log callback") << r.Describe();
  // The worker's fd 2 is raw output too: stagehost may put it on either stream.
  std::string both = r.out + r.err;
  EXPECT_CONTAINS(both, "printf-noise: raw stderr via fprintf") << r.Describe();
  EXPECT_CONTAINS(both, "printf-noise: raw stderr via write(2)") << r.Describe();
  json record = RunRecord();
  EXPECT_EQ(record.value("status", ""), "passed") << record.dump(2);
}

// --- artifacts ----------------------------------------------------------------------------------

TEST_F(PluginFailures, ArtifactEscapesAreRefused) {
  ProcessResult r = Run("artifact_escape", "artifact-escape");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  // Six emits, one OK: the rest refused, and said so on stderr.
  EXPECT_CONTAINS(r.out, "artifact-escape: emit legit.txt: status 0") << r.Describe();
  for (const char* bad :
       {"../escape.txt", "/etc/passwd", "link-out", "up/escape.txt", "pipe.fifo"}) {
    EXPECT_CONTAINS(r.out, std::string("artifact-escape: emit ") + bad + ": status ")
        << r.Describe();
    EXPECT_EQ(r.out.find(std::string("artifact-escape: emit ") + bad + ": status 0"),
              std::string::npos)
        << bad << " was accepted";
  }
  EXPECT_CONTAINS(r.err, "path escapes the artifact directory") << r.Describe();
  EXPECT_CONTAINS(r.err, "not a regular file") << r.Describe();
  // Each refusal is on a stderr line of its own that names the path (and, where the contract fixes
  // it, the reason).
  auto line_naming = [&](const std::string& path) {
    std::istringstream lines(r.err);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("\"" + path + "\"") != std::string::npos ||
          line.find(" " + path) != std::string::npos) {
        return line;
      }
    }
    return std::string();
  };
  for (const char* escaping : {"../escape.txt", "link-out", "up/escape.txt"}) {
    EXPECT_CONTAINS(line_naming(escaping), "path escapes the artifact directory")
        << escaping << "\n"
        << r.err;
  }
  EXPECT_CONTAINS(line_naming("pipe.fifo"), "not a regular file") << r.err;
  EXPECT_FALSE(line_naming("/etc/passwd").empty()) << r.err;

  json record = RunRecord();
  ASSERT_TRUE(record.contains("artifacts")) << record.dump(2);
  ASSERT_TRUE(record["artifacts"].is_array()) << record.dump(2);
  ASSERT_EQ(record["artifacts"].size(), 1u) << record.dump(2);
  const json& artifact = record["artifacts"][0];
  const std::string legit = ReadFile(artifacts_ + "/legit.txt");
  EXPECT_EQ(artifact.value("path", ""), "legit.txt") << artifact.dump();
  EXPECT_EQ(artifact.value("size", -1LL), static_cast<long long>(legit.size())) << artifact.dump();
  EXPECT_EQ(artifact.value("sha256", ""), Sha256Hex(legit)) << artifact.dump();
}

// --- discovery ----------------------------------------------------------------------------------

TEST_F(PluginFailures, DuplicateNameIsRefusedAndFirstWins) {
  StagehostCall call;
  call.plugin_path = FixtureDir("duplicate_a") + ":" + FixtureDir("duplicate_b");
  call.args = {"plugins", "list"};
  ProcessResult list = RunStagehost(call);
  ASSERT_HOST_SURVIVED(list);
  EXPECT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_CONTAINS(list.err, "duplicate plugin name \"dup\"") << list.Describe();

  ProcessResult r = Run("", "dup", {}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out, "dup: I am duplicate_a") << r.Describe();
  EXPECT_EQ(r.out.find("duplicate_b"), std::string::npos) << r.Describe();
}

// --- configuration ------------------------------------------------------------------------------

TEST_F(PluginFailures, ConfigViolatingTheSchemaReportsEveryProblem) {
  ProcessResult r =
      Run("good_stage", "good-stage", {"--config", R"({"fail": "yes", "colour": 1})"});
  ASSERT_HOST_SURVIVED(r);
  // No verdict on the project could be reached: a system failure, not a failed stage.
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "/fail") << r.Describe();
  EXPECT_CONTAINS(r.err, "colour") << r.Describe();
  EXPECT_EQ(r.out.find("good-stage: hello"), std::string::npos) << "create/run must not happen";
}

// --- file policy and integrity (§13 steps 1-2) --------------------------------------------------

TEST_F(PluginFailures, TamperedFileIsNotInTheAllowList) {
  std::string dir = tmp_.Sub("plugins");
  std::string plugin = dir + "/good_stage.so";
  std::string original = ReadFile(FixturePath("good_stage"));
  std::string tampered = original + "tampered";
  WriteFile(plugin, tampered, 0755);
  std::string allow_list = tmp_.path() + "/allow-list.json";

  WriteFile(allow_list, json{{"good-stage", Sha256Hex(original)}}.dump());
  StagehostCall call;
  call.plugin_path = dir;
  ProcessResult refused = Run("", "good-stage", {"--allow-list", allow_list}, call);
  ASSERT_HOST_SURVIVED(refused);
  EXPECT_EQ(refused.exit_code, 2) << refused.Describe();
  EXPECT_CONTAINS(refused.err, "is not in the allow-list") << refused.Describe();
  EXPECT_EQ(refused.out.find("good-stage: hello"), std::string::npos);

  WriteFile(allow_list, json{{"good-stage", Sha256Hex(tampered)}}.dump());
  ProcessResult accepted = Run("", "good-stage", {"--allow-list", allow_list}, call);
  ASSERT_HOST_SURVIVED(accepted);
  EXPECT_EQ(accepted.exit_code, 0) << accepted.Describe();
  EXPECT_CONTAINS(accepted.out, "good-stage: hello from good_stage");
}

namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

Pkey GenerateEd25519() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1) EVP_PKEY_keygen(ctx, &key);
  EVP_PKEY_CTX_free(ctx);
  return Pkey(key);
}

std::string PublicKeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return pem;
}

// Ed25519 over `message` (pure Ed25519: no digest in EVP_DigestSignInit).
std::string SignEd25519(EVP_PKEY* key, std::string_view message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  std::size_t sig_len = sizeof(sig);
  bool ok =
      EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestSign(ctx, sig, &sig_len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? std::string(reinterpret_cast<const char*>(sig), sig_len) : std::string();
}

}  // namespace

TEST_F(PluginFailures, Ed25519SignatureIsVerified) {
  Pkey key = GenerateEd25519();
  ASSERT_NE(key, nullptr);
  std::string pub = tmp_.path() + "/vendor.pub.pem";
  WriteFile(pub, PublicKeyPem(key.get()));

  std::string dir = tmp_.Sub("plugins");
  std::string plugin = dir + "/good_stage.so";
  CopyFile(FixturePath("good_stage"), plugin, 0755);
  std::string signature = SignEd25519(key.get(), Sha256Raw(ReadFile(plugin)));
  ASSERT_EQ(signature.size(), 64u);
  // The detached signature sits beside the plugin; both spellings of "<plugin>.sig" are written.
  auto write_signature = [&](const std::string& sig) {
    WriteFile(plugin + ".sig", sig);
    WriteFile(dir + "/good_stage.sig", sig);
  };
  write_signature(signature);

  StagehostCall call;
  call.plugin_path = dir;
  ProcessResult good = Run("", "good-stage", {"--trusted-key", pub}, call);
  ASSERT_HOST_SURVIVED(good);
  EXPECT_EQ(good.exit_code, 0) << good.Describe();
  EXPECT_CONTAINS(good.out, "good-stage: hello from good_stage");

  std::string corrupted = signature;
  corrupted[10] = static_cast<char>(corrupted[10] ^ 0x01);
  write_signature(corrupted);
  ProcessResult bad = Run("", "good-stage", {"--trusted-key", pub}, call);
  ASSERT_HOST_SURVIVED(bad);
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_CONTAINS(bad.err, "signature") << bad.Describe();
  EXPECT_EQ(bad.out.find("good-stage: hello"), std::string::npos);
}

TEST_F(PluginFailures, WorldWritablePluginIsRefused) {
  std::string dir = tmp_.Sub("plugins");
  std::string plugin = dir + "/good_stage.so";
  CopyFile(FixturePath("good_stage"), plugin, 0666);
  StagehostCall call;
  call.plugin_path = dir;
  ProcessResult r = Run("", "good-stage", {}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "unsafe permissions") << r.Describe();
  EXPECT_EQ(r.out.find("good-stage: hello"), std::string::npos);
}

// --- resources and modes ------------------------------------------------------------------------

TEST_F(PluginFailures, MemoryHogHitsTheMemoryLimit) {
  if (kBuiltWithAsan) GTEST_SKIP() << "rlimits on address space do not work under ASan";
  StagehostCall call;
  call.timeout = 30s;
  ProcessResult r = Run("memory_hog", "memory-hog", {"--memory-limit", "512"}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  bool mentions_memory = r.err.find("out of memory") != std::string::npos ||
                         r.err.find("memory limit") != std::string::npos;
  EXPECT_TRUE(mentions_memory) << r.Describe();
  EXPECT_EQ(r.out.find("memory-hog: touched 2 GiB"), std::string::npos)
      << "the limit was not applied";
}

TEST_F(PluginFailures, InProcessModeRunsGoodStage) {
  ProcessResult r = Run("good_stage", "good-stage", {"--in-process"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out, "good-stage: hello from good_stage") << r.Describe();
  ASSERT_TRUE(FileExists(artifacts_ + "/report.xml"));
  json record = RunRecord();
  ASSERT_TRUE(record.contains("artifacts")) << record.dump(2);
  bool listed = false;
  for (const json& artifact : record["artifacts"]) {
    if (artifact.value("path", "") == "report.xml") {
      listed = true;
      EXPECT_EQ(artifact.value("sha256", ""), Sha256FileHex(artifacts_ + "/report.xml"));
    }
  }
  EXPECT_TRUE(listed) << record.dump(2);
}

}  // namespace
}  // namespace stagehost::testutil
