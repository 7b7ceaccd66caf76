// units_test.cc -- unit tests of the deploy plugin's pure parts: SigV4 (AWS's published example
// vectors), templates, success conditions, the rollout state machine, nginx upstream text, DSSE.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attest.h"
#include "condition.h"
#include "config.h"
#include "crypto.h"
#include "deploy.h"
#include "drivers.h"
#include "sigv4.h"
#include "state.h"
#include "template.h"

namespace stagehost::deploy {
namespace {

// AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
TEST(SigV4, SigningKeyMatchesAwsExample) {
  EXPECT_EQ(Hex(SigV4SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1",
                                "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

// Amazon S3 API reference, "Example: GET Object" (header-based auth, Range header).
TEST(SigV4, S3GetObjectExample) {
  SigV4Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", r.payload_sha256},
               {"x-amz-date", "20130524T000000Z"}};
  SigV4Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  SigV4Result s = SignV4(r, c, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// AWS SigV4 test suite, "get-vanilla".
TEST(SigV4, TestSuiteGetVanilla) {
  SigV4Request r;
  r.method = "GET";
  r.path = "/";
  r.payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  SigV4Credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  SigV4Result s = SignV4(r, c, "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(s.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, QueryIsSortedAndEncoded) {
  SigV4Request r;
  r.method = "PUT";
  r.path = "/b/k";
  r.query = {{"uploadId", "a b/c"}, {"partNumber", "2"}};
  r.headers = {{"host", "h"}};
  r.payload_sha256 = "x";
  SigV4Result s = SignV4(r, {"A", "S", ""}, "us-east-1", "s3", "20240101T000000Z");
  EXPECT_NE(s.canonical_request.find("\npartNumber=2&uploadId=a%20b%2Fc\n"), std::string::npos)
      << s.canonical_request;
  EXPECT_EQ(UriEncode("a b/c~d", true), "a%20b/c~d");
}

TEST(Template, ExpandsKnownAndKeepsPromQLBraces) {
  TemplateVars v{{"version", "1.2"}, {"weight", "25"}};
  EXPECT_EQ(ExpandTemplate("kubectl set image --version={version} w={weight}", v),
            "kubectl set image --version=1.2 w=25");
  EXPECT_EQ(ExpandTemplate(R"(rate(x{code=~"5..",version="{version}"}[1m]))", v),
            R"(rate(x{code=~"5..",version="1.2"}[1m]))");
  EXPECT_EQ(ExpandTemplate("{{version}", v), "{version}");
  EXPECT_THROW(ExpandTemplate("{nope}", v), std::invalid_argument);
  EXPECT_THROW(CheckTemplate("{versoin}", {"version"}), std::invalid_argument);
  EXPECT_NO_THROW(CheckTemplate("{version} {} {A} {1x}", {"version"}));
  EXPECT_EQ(TemplatePlaceholders("{a}{b}{a}"), (std::vector<std::string>{"a", "b"}));
}

TEST(Condition, ParsesAndEvaluates) {
  Condition c = Condition::Parse("result < 0.01");
  EXPECT_TRUE(c.Holds(0.0));
  EXPECT_FALSE(c.Holds(0.01));
  EXPECT_FALSE(c.Holds(std::nan("")));
  Condition r = Condition::Parse("result>=0.95 && result <= 1");
  EXPECT_TRUE(r.Holds(0.97));
  EXPECT_FALSE(r.Holds(0.9));
  EXPECT_FALSE(r.Holds(1.5));
  EXPECT_TRUE(Condition::Parse("result != 0").Holds(2));
  EXPECT_TRUE(Condition::Parse("result == 3e2").Holds(300));
}

TEST(Condition, RejectsMalformedWithPosition) {
  for (const char* bad :
       {"", "x < 1", "result", "result < ", "result < abc", "result < 1 ||", "result < 1 2"}) {
    try {
      Condition::Parse(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("column"), std::string::npos) << e.what();
    }
  }
}

TEST(StateMachine, AllowsTheRolloutPathsOnly) {
  DeployState s;
  s.Transition(Phase::kApplying);
  s.Transition(Phase::kStep);
  s.Transition(Phase::kStep);
  s.Transition(Phase::kPromoting);
  s.Transition(Phase::kDone);
  s.Transition(Phase::kApplying);
  s.Transition(Phase::kSwitching);
  s.Transition(Phase::kRollingBack);
  s.Transition(Phase::kRollbackFailed);
  s.Transition(Phase::kRollingBack);  // recovery may retry a failed rollback
  s.Transition(Phase::kRolledBack);
  EXPECT_THROW(s.Transition(Phase::kDone), std::logic_error);
  EXPECT_THROW(s.Transition(Phase::kRollingBack), std::logic_error);  // nothing to roll back
  EXPECT_FALSE(TransitionAllowed(Phase::kApplying, Phase::kDone));
  EXPECT_FALSE(TransitionAllowed(Phase::kStep, Phase::kApplying));
  EXPECT_TRUE(IsTerminal(Phase::kRolledBack));
  EXPECT_FALSE(IsTerminal(Phase::kRollbackFailed));
}

TEST(StateMachine, JsonRoundTrip) {
  DeployState s;
  s.environment = "prod";
  s.live_version = "v1";
  s.phase = Phase::kStep;
  s.weight = 25;
  DeployState t = DeployState::FromJson(s.ToJson());
  EXPECT_EQ(t.phase, Phase::kStep);
  EXPECT_EQ(t.weight, 25);
  EXPECT_EQ(t.live_version, "v1");
  EXPECT_THROW(PhaseFromName("halfway"), std::invalid_argument);
}

TEST(Nginx, UpstreamWeights) {
  EXPECT_EQ(NginxUpstream("u", "a:1", "b:2", 25)
                .substr(NginxUpstream("u", "a:1", "b:2", 25).find("upstream")),
            "upstream u {\n    server a:1 weight=75;\n    server b:2 weight=25;\n}\n");
  std::string only_stable = NginxUpstream("u", "a:1", "b:2", 0);
  EXPECT_NE(only_stable.find("server a:1;"), std::string::npos);
  EXPECT_EQ(only_stable.find("b:2"), std::string::npos);
  std::string only_new = NginxUpstream("u", "a:1", "b:2", 100);
  EXPECT_EQ(only_new.find("a:1"), std::string::npos);
}

TEST(Dsse, PaeAndSignVerify) {
  EXPECT_EQ(Pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  Ed25519Key key = Ed25519Key::Generate();
  LocalArtifact a{"m.json", "/nonexistent", "m.json", {std::string(64, 'a'), 3}};
  const std::string env = SignEnvelope(
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m.json","digest":{"sha256":")" +
          std::string(64, 'a') + R"("}}]})",
      key);
  EXPECT_TRUE(VerifyEnvelope(env, key, {a}).ok());
  LocalArtifact tampered = a;
  tampered.digest.sha256 = std::string(64, 'b');
  VerifyResult bad = VerifyEnvelope(env, key, {tampered});
  EXPECT_TRUE(bad.signature_ok);
  EXPECT_FALSE(bad.ok());
  Ed25519Key other = Ed25519Key::Generate();
  EXPECT_FALSE(VerifyEnvelope(env, other, {a}).signature_ok);
  // Flipping a payload byte breaks the signature.
  nlohmann::json j = nlohmann::json::parse(env);
  std::string payload = *Base64Decode(j["payload"].get<std::string>());
  payload[payload.size() - 3] = 'c';
  j["payload"] = Base64Encode(payload);
  EXPECT_FALSE(VerifyEnvelope(j.dump(), key, {a}).signature_ok);
  // The PEM round trip keeps the public key.
  EXPECT_EQ(Ed25519Key::FromPem(key.PublicPem()).PublicRaw(), key.PublicRaw());
  EXPECT_FALSE(Ed25519Key::FromPem(key.PublicPem()).has_private());
  EXPECT_THROW(Ed25519Key::FromPem("-----BEGIN PRIVATE KEY-----\nnope\n"), std::invalid_argument);
}

TEST(Config, CrossKeyErrorsNameTheKey) {
  auto error_of = [](const char* text) -> std::string {
    try {
      ParseConfig(nlohmann::json::parse(text));
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of(R"({"mode":"verify","artifacts":["a"],"verify":{"provenance":"p"}})")
                .find("public_key_variable"),
            std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"mode":"publish","artifacts":["a"],"publish":{"store":"directory","directory":{"path":"x"}}})")
          .find("signing.key_variable"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"mode":"rollout","artifacts":["a"],"verify":{"provenance":"p","public_key_variable":"K"},
      "rollout":{"driver":"command","strategy":"canary","steps":[{"weight":10},{"weight":50}],"command":{"apply":["true"],"rollback":["true"],"set_weight":["true"]}}})")
          .find("weight 100"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"mode":"rollout","artifacts":["a"],"verify":{"provenance":"p","public_key_variable":"K"},
      "rollout":{"driver":"command","command":{"apply":["x","{verison}"],"rollback":["true"]}}})")
          .find("rollout.command.apply[1]: unknown placeholder {verison}"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"mode":"rollout","artifacts":["a"],"verify":{"provenance":"p","public_key_variable":"K"},
      "analysis":{"prometheus_url":"http://p","metrics":[{"name":"e","query":"q","condition":"result <"}]},
      "rollout":{"driver":"command","command":{"apply":["x"],"rollback":["true"]}}})")
          .find("analysis.metrics[0].condition"),
      std::string::npos);
  EXPECT_EQ(
      error_of(
          R"({"mode":"rollout","artifacts":["a"],"verify":{"provenance":"p","public_key_variable":"K"},
      "rollout":{"driver":"command","command":{"apply":["x","{version}"],"rollback":["true"]}}})"),
      "");
}

TEST(Reports, DotenvAndJUnit) {
  EXPECT_EQ(Dotenv({{"A", "x\ny"}, {"B", "1"}}), "A=x y\nB=1\n");
  std::string xml =
      JUnitXml({{"verify", "signature", Gate::Status::kPassed, ""},
                {"rollout", "canary 25%: errors", Gate::Status::kFailed, "result 0.3 <bad>"}});
  EXPECT_NE(xml.find("<testsuite name=\"deploy.rollout\" tests=\"1\" failures=\"1\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("result 0.3 &lt;bad&gt;"), std::string::npos);
}

// securesystemslib's canonical form: sorted keys, no spaces, only backslash and quote escaped
// (a newline stays a raw byte), integers only.
TEST(CanonicalJson, MatchesSecuresystemslibRules) {
  nlohmann::json value = {{"b", {1, true, nullptr}}, {"a", "q\"b\\s\nx ü"}, {"_t", {{"z", -3}}}};
  EXPECT_EQ(CanonicalJson(value),
            "{\"_t\":{\"z\":-3},\"a\":\"q\\\"b\\\\s\nx ü\",\"b\":[1,true,null]}");
  EXPECT_THROW(CanonicalJson(nlohmann::json{{"f", 1.5}}), std::invalid_argument);
  // The keyid securesystemslib computes is checked by PublishTest.LinkVerifiesWithInTotoVerify.
}

}  // namespace
}  // namespace stagehost::deploy
