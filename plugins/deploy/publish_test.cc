// publish_test.cc -- publishing against real stores started on loopback: s3rver (multipart,
// idempotent re-run, no overwrite of a release), nginx WebDAV PUT with read-back, a directory;
// the provenance checked by Debian's in-toto stack (securesystemslib) and a tampered artifact.
#include <gtest/gtest.h>
#include <stagehost/stage.h>

#include <nlohmann/json.hpp>
#include <random>

#include "config.h"
#include "crypto.h"
#include "deploy.h"
#include "test_helpers.h"

namespace stagehost::deploy {
namespace {

using namespace testing;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Runs `command` with sh; its exit status (as pclose returns it) and stdout + stderr.
std::pair<int, std::string> RunShell(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  return {::pclose(p), out};
}

class PublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_.workspace = dir_ / "ws";
    run_.artifacts = dir_ / "out";
    Spit(run_.workspace + "/model/model.json", R"({"weights": [1, 2, 3]})");
    const Ed25519Key key = Ed25519Key::Generate();
    run_.vars["DEPLOY_SIGNING_KEY"] = key.PrivatePem();
  }
  Config Parse(const std::string& text) { return ParseConfig(nlohmann::json::parse(text)); }
  // Publishes `artifacts` (a JSON array) as `version` to a directory store.
  void PublishToDirectory(const std::string& version, const std::string& artifacts) {
    const std::string cfg = R"({"mode":"publish","version":")" + version + R"(","artifacts":)" +
                            artifacts + R"(,"signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
      "publish":{"store":"directory","directory":{"path":")" +
                            (dir_ / "store") + R"("}}})";
    DeployReport r = RunDeploy(Parse(cfg), run_.Env());
    ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message;
  }

  TempDir dir_;
  TestRun run_;
};

TEST_F(PublishTest, S3MultipartIdempotentAndNeverOverwritten) {
  const std::string s3rver = SourceDir() + "/node_modules/.bin/s3rver";
  if (!fs::exists(s3rver)) GTEST_SKIP() << "s3rver not installed (scripts/install-deps.sh)";
  const int port = testutil::FreeLoopbackPort();
  fs::create_directories(dir_ / "s3");
  Service server({"/usr/bin/env", "node", s3rver, "-d", dir_ / "s3", "-a", "127.0.0.1", "-p",
                  std::to_string(port), "--configure-bucket", "models", "--silent"},
                 dir_ / "s3rver.log");
  ASSERT_TRUE(WaitHttp("http://127.0.0.1:" + std::to_string(port) + "/")) << server.log();
  run_.vars["AWS_ACCESS_KEY_ID"] = "S3RVER";
  run_.vars["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
  // 12 MiB + 3 bytes with 5 MiB parts: three parts, the last one short.
  const std::string big = RandomBytes((12u << 20) + 3, 7);
  Spit(run_.workspace + "/model/weights.bin", big);
  const std::string cfg =
      R"({"mode":"publish","version":"1.0.0","require_protected_ref":true,
    "artifacts":["model/model.json","model/weights.bin"],"signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
    "publish":{"store":"s3","prefix":"releases","s3":{"endpoint":"http://127.0.0.1:)" +
      std::to_string(port) +
      R"(","bucket":"models","part_size_mib":5,"multipart_threshold_mib":5,"parallel_parts":3}}})";
  DeployReport first = RunDeploy(Parse(cfg), run_.Env());
  ASSERT_EQ(first.verdict, Verdict::kPassed) << first.message << "\n" << run_.log;
  EXPECT_NE(run_.log.find("3 parts of 5 MiB"), std::string::npos) << run_.log;
  ASSERT_EQ(first.record["published"].size(), 2u);
  EXPECT_TRUE(first.record["published"][1]["uploaded"].get<bool>());

  // The blob is stored under its content address, below the configured prefix.
  const std::string key = "releases/model/sha256/" + Sha256Hex(big) + "/weights.bin";
  EXPECT_EQ(first.record["published"][1]["url"].get<std::string>(),
            "http://127.0.0.1:" + std::to_string(port) + "/models/" + key);

  // Re-run: same version, same bytes: nothing uploaded, still passes.
  run_.log.clear();
  DeployReport again = RunDeploy(Parse(cfg), run_.Env());
  ASSERT_EQ(again.verdict, Verdict::kPassed) << again.message;
  EXPECT_TRUE(again.record["already_released"].get<bool>());
  EXPECT_NE(run_.log.find("already released with the same digests"), std::string::npos) << run_.log;

  // Same version, other bytes: refused, nothing replaced.
  Spit(run_.workspace + "/model/model.json", R"({"weights": [9, 9, 9]})");
  DeployReport conflict = RunDeploy(Parse(cfg), run_.Env());
  EXPECT_EQ(conflict.verdict, Verdict::kFailed);
  EXPECT_NE(conflict.message.find("already released with other content"), std::string::npos)
      << conflict.message;

  // A new version whose big blob is already stored skips that upload (content addressing).
  run_.log.clear();
  std::string cfg2 = cfg;
  cfg2.replace(cfg2.find("1.0.0"), 5, "1.0.1");
  DeployReport next = RunDeploy(Parse(cfg2), run_.Env());
  ASSERT_EQ(next.verdict, Verdict::kPassed) << next.message << run_.log;
  EXPECT_FALSE(next.record["published"][1]["uploaded"].get<bool>());
  EXPECT_TRUE(next.record["published"][0]["uploaded"].get<bool>());
}

// s3rver 3.7 does not check V4 signatures (its authentication.js says so), only the access key:
// signatures are checked by the AWS example vectors in units_test.cc and, on real requests, by
// S3SignaturesVerifiedByBotocoreIncludingSessionToken.
TEST_F(PublishTest, S3UnknownAccessKeyIsAnInfraErrorWithoutSecrets) {
  const std::string s3rver = SourceDir() + "/node_modules/.bin/s3rver";
  if (!fs::exists(s3rver)) GTEST_SKIP() << "s3rver not installed";
  const int port = testutil::FreeLoopbackPort();
  fs::create_directories(dir_ / "s3");
  Service server({"/usr/bin/env", "node", s3rver, "-d", dir_ / "s3", "-a", "127.0.0.1", "-p",
                  std::to_string(port), "--configure-bucket", "models", "--silent"},
                 dir_ / "s3rver.log");
  ASSERT_TRUE(WaitHttp("http://127.0.0.1:" + std::to_string(port) + "/"));
  run_.vars["AWS_ACCESS_KEY_ID"] = "UNKNOWNKEY";
  run_.vars["AWS_SECRET_ACCESS_KEY"] = "not-the-secret";
  const std::string cfg = R"({"mode":"publish","version":"1","artifacts":["model/model.json"],
    "signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
    "publish":{"store":"s3","s3":{"endpoint":"http://127.0.0.1:)" +
                          std::to_string(port) + R"(","bucket":"models"}}})";
  try {
    RunDeploy(Parse(cfg), run_.Env());
    FAIL() << "an unknown access key was accepted";
  } catch (const stagehost::sdk::InfraError& e) {
    EXPECT_NE(std::string(e.what()).find("InvalidAccessKeyId"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("not-the-secret"), std::string::npos);
  }
}

// Every request of a multipart publish with temporary credentials (session token), checked on
// the wire by testdata/sigv4_proxy.py — S3's canonicalisation, signature computed by botocore —
// before it reaches s3rver; a wrong secret is refused the way S3 refuses it.
TEST_F(PublishTest, S3SignaturesVerifiedByBotocoreIncludingSessionToken) {
  const std::string s3rver = SourceDir() + "/node_modules/.bin/s3rver";
  if (!fs::exists(s3rver)) GTEST_SKIP() << "s3rver not installed (scripts/install-deps.sh)";
  const int s3_port = testutil::FreeLoopbackPort();
  const int proxy_port = testutil::FreeLoopbackPort();
  fs::create_directories(dir_ / "s3");
  Service server({"/usr/bin/env", "node", s3rver, "-d", dir_ / "s3", "-a", "127.0.0.1", "-p",
                  std::to_string(s3_port), "--configure-bucket", "models", "--silent"},
                 dir_ / "s3rver.log");
  const std::string proxy_log = dir_ / "sigv4.log";
  Service proxy(
      {"/usr/bin/python3", SourceDir() + "/plugins/deploy/testdata/sigv4_proxy.py", "--port",
       std::to_string(proxy_port), "--upstream", "http://127.0.0.1:" + std::to_string(s3_port),
       "--access-key", "S3RVER", "--secret-key", "S3RVER", "--session-token",
       "FQoGZXIvYXdzE+token/with=chars", "--log", proxy_log},
      dir_ / "proxy.stderr");
  ASSERT_TRUE(WaitHttp("http://127.0.0.1:" + std::to_string(s3_port) + "/")) << server.log();
  ASSERT_TRUE(WaitHttp("http://127.0.0.1:" + std::to_string(proxy_port) + "/")) << proxy.log();
  fs::remove(proxy_log);  // the readiness probes were unsigned
  run_.vars["AWS_ACCESS_KEY_ID"] = "S3RVER";
  run_.vars["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
  run_.vars["AWS_SESSION_TOKEN"] = "FQoGZXIvYXdzE+token/with=chars";
  const std::string big = RandomBytes((11u << 20) + 5, 11);
  Spit(run_.workspace + "/model/weights.bin", big);
  auto config = [&](const std::string& version) {
    return Parse(R"({"mode":"publish","version":")" + version +
                 R"(","artifacts":["model/model.json","model/weights.bin"],
      "signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
      "publish":{"store":"s3","prefix":"rel eases/+x","s3":{"endpoint":"http://127.0.0.1:)" +
                 std::to_string(proxy_port) +
                 R"(","bucket":"models","session_token_variable":"AWS_SESSION_TOKEN",
        "part_size_mib":5,"multipart_threshold_mib":5,"parallel_parts":2}}})");
  };
  DeployReport r = RunDeploy(config("1.0.0"), run_.Env());
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message << "\n" << Slurp(proxy_log);
  const std::string log = Slurp(proxy_log);
  EXPECT_EQ(log.find("BAD "), std::string::npos) << log;
  // HEADs, single PUTs, the multipart create / part PUTs / complete: all signed and verified.
  EXPECT_NE(log.find("OK HEAD "), std::string::npos) << log;
  EXPECT_NE(log.find("OK POST /models/rel%20eases/%2Bx/model/sha256/"), std::string::npos) << log;
  EXPECT_NE(log.find("?uploads"), std::string::npos) << log;
  EXPECT_NE(log.find("partNumber=3"), std::string::npos) << log;
  EXPECT_NE(log.find("uploadId="), std::string::npos) << log;
  // The blob arrived whole under its content address (s3rver keeps `<key>._S3rver_object`).
  EXPECT_EQ(Slurp(std::string(dir_ / "s3/models/rel eases/+x/model/sha256/") + Sha256Hex(big) +
                  "/weights.bin._S3rver_object"),
            big);

  // A wrong secret: S3's SignatureDoesNotMatch, an infrastructure error without the secret.
  run_.vars["AWS_SECRET_ACCESS_KEY"] = "not-the-secret-4711";
  try {
    RunDeploy(config("1.0.1"), run_.Env());
    FAIL() << "a bad signature was accepted";
  } catch (const stagehost::sdk::InfraError& e) {
    EXPECT_NE(std::string(e.what()).find("SignatureDoesNotMatch"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("not-the-secret-4711"), std::string::npos);
  }
  EXPECT_NE(Slurp(proxy_log).find("BAD "), std::string::npos);
}

TEST_F(PublishTest, HttpPutToNginxWithReadBack) {
  if (!fs::exists("/usr/sbin/nginx")) GTEST_SKIP() << "nginx not installed";
  const int port = testutil::FreeLoopbackPort();
  const std::string ndir = dir_ / "nginx";
  fs::create_directories(ndir + "/repo");
  Spit(ndir + "/nginx.conf",
       NginxConf(ndir,
                 "  server {\n    listen 127.0.0.1:" + std::to_string(port) +
                     ";\n    client_max_body_size 0;\n    location /repo/ {\n      root " + ndir +
                     ";\n      dav_methods PUT;\n      create_full_put_path on;\n    }\n  }\n"));
  Service nginx({"/usr/sbin/nginx", "-p", ndir, "-c", ndir + "/nginx.conf"}, ndir + "/stderr.log");
  ASSERT_TRUE(WaitHttp("http://127.0.0.1:" + std::to_string(port) + "/")) << nginx.log();
  Spit(run_.workspace + "/model/weights.bin", RandomBytes(3u << 20, 3));
  const std::string cfg =
      R"({"mode":"publish","version":"2.0.0","artifacts":["model/model.json","model/weights.bin"],
    "signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
    "publish":{"store":"http","http":{"url":"http://127.0.0.1:)" +
      std::to_string(port) + R"(/repo"}}})";
  DeployReport r = RunDeploy(Parse(cfg), run_.Env());
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message << "\n" << run_.log;
  const std::string stored = ndir + "/repo/model/sha256/" +
                             Sha256Hex(Slurp(run_.workspace + "/model/weights.bin")) +
                             "/weights.bin";
  EXPECT_EQ(Slurp(stored), Slurp(run_.workspace + "/model/weights.bin"));
  const auto manifest = nlohmann::json::parse(Slurp(ndir + "/repo/model/versions/2.0.0.json"));
  EXPECT_EQ(manifest["files"].size(), 2u);
  EXPECT_TRUE(fs::exists(ndir + "/repo/model/versions/2.0.0.intoto.jsonl"));

  // A stored blob damaged behind our back is detected by the read-back hash and replaced.
  Spit(stored, "garbage");
  run_.log.clear();
  std::string cfg2 = cfg;
  cfg2.replace(cfg2.find("2.0.0"), 5, "2.0.1");
  DeployReport r2 = RunDeploy(Parse(cfg2), run_.Env());
  ASSERT_EQ(r2.verdict, Verdict::kPassed) << r2.message;
  EXPECT_NE(run_.log.find("replacing the damaged blob"), std::string::npos) << run_.log;
  EXPECT_EQ(Slurp(stored), Slurp(run_.workspace + "/model/weights.bin"));
}

// Credentials for an HTTP repository come from variables: basic auth (nginx auth_basic) and a
// bearer token (checked by nginx); a wrong or missing credential is a clear infrastructure error,
// and no credential reaches the log, the error or a report.
TEST_F(PublishTest, HttpPutWithBasicAuthAndBearerToken) {
  if (!fs::exists("/usr/sbin/nginx")) GTEST_SKIP() << "nginx not installed";
  const int port = testutil::FreeLoopbackPort();
  const std::string ndir = dir_ / "nginx";
  fs::create_directories(ndir + "/basic");
  fs::create_directories(ndir + "/bearer");
  Spit(ndir + "/htpasswd", "publisher:{PLAIN}basic-pass-6f1d\n");
  const std::string dav = "      dav_methods PUT;\n      create_full_put_path on;\n";
  Spit(
      ndir + "/nginx.conf",
      NginxConf(ndir,
                "  server {\n    listen 127.0.0.1:" + std::to_string(port) +
                    ";\n    client_max_body_size 0;\n    location /basic/ {\n      root " + ndir +
                    ";\n" + dav + "      auth_basic repo;\n      auth_basic_user_file " + ndir +
                    "/htpasswd;\n    }\n    location /bearer/ {\n      root " + ndir + ";\n" + dav +
                    "      if ($http_authorization != \"Bearer bearer-token-9c2e\") "
                    "{ return 401; }\n    }\n  }\n"));
  Service nginx({"/usr/sbin/nginx", "-p", ndir, "-c", ndir + "/nginx.conf"}, ndir + "/stderr.log");
  ASSERT_TRUE(WaitHttp("http://127.0.0.1:" + std::to_string(port) + "/")) << nginx.log();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto config = [&](const std::string& version, const std::string& path,
                    const std::string& credentials) {
    return Parse(R"({"mode":"publish","version":")" + version +
                 R"(","artifacts":["model/model.json"],
      "signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
      "publish":{"store":"http","http":{"url":")" +
                 base + path + "\"" + credentials + "}}}");
  };
  const std::string basic = R"(,"username_variable":"REPO_USER","password_variable":"REPO_PASS")";
  const std::string bearer = R"(,"token_variable":"REPO_TOKEN")";
  const std::string digest = Sha256Hex(Slurp(run_.workspace + "/model/model.json"));
  auto expect_refused = [&](const Config& cfg, const std::string& secret) {
    try {
      RunDeploy(cfg, run_.Env());
      ADD_FAILURE() << "published without valid credentials";
    } catch (const stagehost::sdk::InfraError& e) {
      EXPECT_NE(std::string(e.what()).find("HTTP 401"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
    }
  };

  run_.vars["REPO_USER"] = "publisher";
  run_.vars["REPO_PASS"] = "wrong-pass-0000";
  expect_refused(config("1.0.0", "/basic", basic), "wrong-pass-0000");
  expect_refused(config("1.0.0", "/basic", ""), "basic-pass-6f1d");
  run_.vars["REPO_PASS"] = "basic-pass-6f1d";
  DeployReport r = RunDeploy(config("1.0.0", "/basic", basic), run_.Env());
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message << "\n" << nginx.log();
  EXPECT_EQ(Slurp(ndir + "/basic/model/sha256/" + digest + "/model.json"),
            Slurp(run_.workspace + "/model/model.json"));

  run_.vars["REPO_TOKEN"] = "not-the-token-1111";
  expect_refused(config("1.0.0", "/bearer", bearer), "not-the-token-1111");
  run_.vars["REPO_TOKEN"] = "bearer-token-9c2e";
  r = RunDeploy(config("1.0.0", "/bearer", bearer), run_.Env());
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message;
  EXPECT_TRUE(fs::exists(ndir + "/bearer/model/versions/1.0.0.json"));

  for (const std::string secret :
       {"basic-pass-6f1d", "wrong-pass-0000", "bearer-token-9c2e", "not-the-token-1111"}) {
    EXPECT_EQ(run_.log.find(secret), std::string::npos) << secret;
    for (const auto& e : fs::directory_iterator(run_.artifacts)) {
      EXPECT_EQ(Slurp(e.path()).find(secret), std::string::npos) << e.path();
    }
  }
}

TEST_F(PublishTest, DirectoryStoreAndReports) {
  const std::string cfg =
      R"({"mode":"publish","version":"3","environment":"staging","url":"https://{environment}.example.com/v/{version}",
    "artifacts":["model/model.json"],"signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
    "publish":{"store":"directory","directory":{"path":")" +
      (dir_ / "store") + R"("}}})";
  DeployReport r = RunDeploy(Parse(cfg), run_.Env());
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message;
  const std::string digest = Sha256Hex(Slurp(run_.workspace + "/model/model.json"));
  EXPECT_EQ(Slurp(dir_ / ("store/model/sha256/" + digest + "/model.json")),
            Slurp(run_.workspace + "/model/model.json"));
  // No temporary files left behind by the atomic renames.
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "store")) {
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
  }
  const std::string dotenv = Slurp(run_.artifacts + "/deploy.env");
  EXPECT_NE(dotenv.find("DEPLOY_VERSION=3\n"), std::string::npos) << dotenv;
  EXPECT_NE(dotenv.find("DYNAMIC_ENVIRONMENT_URL=https://staging.example.com/v/3\n"),
            std::string::npos)
      << dotenv;
  EXPECT_EQ(dotenv.find("PRIVATE"), std::string::npos);
  const std::string junit = Slurp(run_.artifacts + "/deploy-junit.xml");
  EXPECT_NE(junit.find("name=\"model.json\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("name=\"signature\""), std::string::npos) << junit;
  // The secret never reaches the log or any report.
  for (const auto& e : fs::directory_iterator(run_.artifacts)) {
    EXPECT_EQ(Slurp(e.path()).find("PRIVATE KEY"), std::string::npos) << e.path();
  }
  EXPECT_EQ(run_.log.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(PublishTest, RefusesUnprotectedRef) {
  run_.vars["CI_COMMIT_REF_PROTECTED"] = "false";
  const std::string cfg =
      R"({"mode":"publish","version":"3","artifacts":["model/model.json"],"signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
    "publish":{"store":"directory","directory":{"path":")" +
      (dir_ / "store") + R"("}}})";
  DeployReport r = RunDeploy(Parse(cfg), run_.Env());
  EXPECT_EQ(r.verdict, Verdict::kFailed);
  EXPECT_NE(r.message.find("not a protected ref"), std::string::npos) << r.message;
  EXPECT_FALSE(fs::exists(dir_ / "store"));
}

// Debian's in-toto 1.3.1 has no DSSE/Statement model of its own; its crypto layer,
// securesystemslib (0.26), verifies Ed25519 signatures through SSlibKey. The script rebuilds the
// DSSE PAE itself, verifies with SSlibKey, and checks each subject with securesystemslib.hash.
constexpr const char* kInTotoVerify = R"PY(
import base64, json, sys
from securesystemslib.signer import SSlibKey, Signature
from securesystemslib import hash as sslib_hash
import in_toto  # the package the statement is for; imported to prove it is installed
env = json.load(open(sys.argv[1]))
pub_raw = open(sys.argv[2], 'rb').read()
payload = base64.b64decode(env['payload'])
ptype = env['payloadType'].encode()
pae = b'DSSEv1 %d %s %d %s' % (len(ptype), ptype, len(payload), payload)
sig = env['signatures'][0]
key = SSlibKey(sig['keyid'], 'ed25519', 'ed25519', {'public': pub_raw.hex()})
key.verify_signature(Signature(sig['keyid'], base64.b64decode(sig['sig']).hex()), pae)
st = json.loads(payload)
assert st['_type'] == 'https://in-toto.io/Statement/v1', st['_type']
assert st['predicateType'] == 'https://slsa.dev/provenance/v1'
for subject, path in zip(st['subject'], sys.argv[3:]):
    d = sslib_hash.digest_filename(path, algorithm='sha256').hexdigest()
    assert d == subject['digest']['sha256'], (path, d, subject)
print('VERIFIED', st['predicate']['runDetails']['builder']['id'])
)PY";

TEST_F(PublishTest, ProvenanceVerifiesWithDebianInToto) {
  if (!fs::exists("/usr/lib/python3/dist-packages/in_toto"))
    GTEST_SKIP() << "in-toto not installed";
  PublishToDirectory("4", R"(["model/model.json"])");
  const Ed25519Key key = Ed25519Key::FromPem(Slurp(run_.artifacts + "/provenance.pub.pem"));
  Spit(dir_ / "pub.raw", key.PublicRaw());
  Spit(dir_ / "verify.py", kInTotoVerify);
  auto python = [&](const std::string& artifact) {
    return RunShell("/usr/bin/python3 " + (dir_ / "verify.py") + " " + run_.artifacts +
                    "/provenance.intoto.jsonl " + (dir_ / "pub.raw") + " " + artifact);
  };
  auto [status, out] = python(run_.workspace + "/model/model.json");
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("VERIFIED https://gitlab.example.com/ml/model/-/jobs/42"), std::string::npos)
      << out;
  // The statement's materials name the commit.
  const auto statement = nlohmann::json::parse(Slurp(run_.artifacts + "/provenance.json"));
  EXPECT_EQ(
      statement["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
      "0123456789abcdef0123456789abcdef01234567");
  // The detached signature covers the statement file's exact bytes.
  EXPECT_TRUE(key.Verify(Slurp(run_.artifacts + "/provenance.json"), *Base64Decode([&] {
                           std::string s = Slurp(run_.artifacts + "/provenance.json.sig");
                           s.pop_back();
                           return s;
                         }())));

  // Tampered artifact: python's check fails, and so does the plugin's verify mode.
  Spit(run_.workspace + "/model/model.json", R"({"weights": [6, 6, 6]})");
  auto [bad_status, bad_out] = python(run_.workspace + "/model/model.json");
  EXPECT_NE(bad_status, 0) << bad_out;
  fs::copy_file(run_.artifacts + "/provenance.intoto.jsonl",
                run_.workspace + "/provenance.intoto.jsonl");
  run_.vars["DEPLOY_PUBLIC_KEY"] = key.PublicPem();
  const std::string verify = R"({"mode":"verify","artifacts":["model/model.json"],
    "verify":{"provenance":"provenance.intoto.jsonl","public_key_variable":"DEPLOY_PUBLIC_KEY"}})";
  DeployReport v = RunDeploy(Parse(verify), run_.Env());
  EXPECT_EQ(v.verdict, Verdict::kFailed);
  EXPECT_NE(v.message.find("but the provenance says"), std::string::npos) << v.message;
  Spit(run_.workspace + "/model/model.json", R"({"weights": [1, 2, 3]})");
  DeployReport ok = RunDeploy(Parse(verify), run_.Env());
  EXPECT_EQ(ok.verdict, Verdict::kPassed) << ok.message;
}

// A layout owner's side with Debian's in-toto 1.3.1: a layout naming the plugin's key (from
// provenance.pub.json) as the functionary of step "publish", whose only allowed product is the
// model file, signed by a fresh owner key; then in-toto-verify over the plugin's link.
constexpr const char* kMakeLayout = R"PY(
import sys
from securesystemslib.interface import (generate_and_write_unencrypted_ed25519_keypair,
    import_ed25519_privatekey_from_file, import_ed25519_publickey_from_file)
from in_toto.models.layout import Layout, Step
from in_toto.models.metadata import Metablock
work, functionary_pub = sys.argv[1], sys.argv[2]
owner = import_ed25519_privatekey_from_file(
    generate_and_write_unencrypted_ed25519_keypair(filepath=work + '/owner'))
functionary = import_ed25519_publickey_from_file(functionary_pub)
layout = Layout()
layout.set_relative_expiration(days=1)
layout.add_functionary_key(functionary)
step = Step(name='publish')
step.pubkeys = [functionary['keyid']]
step.expected_products = [['ALLOW', 'model/model.json'], ['DISALLOW', '*']]
layout.steps = [step]
metablock = Metablock(signed=layout)
metablock.sign(owner)
metablock.dump(work + '/root.layout')
print(functionary['keyid'])
)PY";

TEST_F(PublishTest, LinkVerifiesWithInTotoVerify) {
  if (!fs::exists("/usr/bin/in-toto-verify")) GTEST_SKIP() << "in-toto not installed";
  PublishToDirectory("5", R"(["model/model.json"])");
  Spit(dir_ / "layout.py", kMakeLayout);
  auto [made, keyid] = RunShell("/usr/bin/python3 " + (dir_ / "layout.py") + " " + dir_.path() +
                                " " + run_.artifacts + "/provenance.pub.json");
  ASSERT_EQ(made, 0) << keyid;
  keyid.pop_back();
  // The link is named as in-toto-verify looks for it, under the key securesystemslib computes.
  const std::string link = run_.artifacts + "/publish." + keyid.substr(0, 8) + ".link";
  ASSERT_TRUE(fs::exists(link)) << keyid;
  // The verification runs where the products are (in-toto records paths relative to it).
  const std::string verify = "cd " + run_.workspace + " && /usr/bin/in-toto-verify --layout " +
                             (dir_ / "root.layout") + " --layout-keys " + (dir_ / "owner.pub") +
                             " --key-types ed25519 --link-dir " + run_.artifacts;
  auto [status, out] = RunShell(verify);
  EXPECT_EQ(status, 0) << out;

  // A product digest changed after signing: the signature no longer verifies.
  const std::string original = Slurp(link);
  auto tampered = nlohmann::json::parse(original);
  tampered["signed"]["products"]["model/model.json"]["sha256"] = std::string(64, '0');
  Spit(link, tampered.dump(1));
  auto [bad_status, bad_out] = RunShell(verify);
  EXPECT_NE(bad_status, 0) << bad_out;
  EXPECT_NE(bad_out.find("validly signed"), std::string::npos) << bad_out;
  // A product the layout does not allow: the artifact rules fail.
  Spit(link, original);
  Spit(run_.workspace + "/model/extra.bin", "x");
  PublishToDirectory("6", R"(["model/model.json", "model/extra.bin"])");
  auto [rule_status, rule_out] = RunShell(verify);
  EXPECT_NE(rule_status, 0) << rule_out;
  EXPECT_NE(rule_out.find("model/extra.bin"), std::string::npos) << rule_out;
}

}  // namespace
}  // namespace stagehost::deploy
