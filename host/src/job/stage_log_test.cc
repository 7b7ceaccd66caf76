// StageLog: per-stream masking, one shared cap, masked and prefixed host messages.
#include "job/stage_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stagehost {
namespace {

std::shared_ptr<const log::SecretMatcher> Secrets(std::vector<std::string> values) {
  auto matcher = log::SecretMatcher::Create(values);
  EXPECT_TRUE(matcher.ok());
  return *matcher;
}

TEST(StageLog, InterleavedStreamsAreMaskedSeparately) {
  log::StringSink out, err;
  StageLog stage_log(Secrets({"hunter2-password"}), &out, 1 << 20, &err);
  // The secret is split across writes of stream 1 while stream 2 writes in between: a single
  // masker over the merged bytes would see "hunter2-" "other" "password" and miss it.
  stage_log.Write(1, "a hunter2-");
  stage_log.Write(2, "other\n");
  stage_log.Write(1, "password b\n");
  stage_log.Close();
  // Stream 1 holds "hunter2-" back until it knows whether the secret completes, so stream 2's
  // line comes out in between.
  EXPECT_EQ(out.data(), "a other\n[MASKED] b\n");
}

TEST(StageLog, MessagesArePrefixedPerLineAndMasked) {
  log::StringSink out, err;
  StageLog stage_log(Secrets({"hunter2-password"}), &out, 1 << 20, &err);
  stage_log.Message("first line\nsecond hunter2-password line");
  stage_log.Close();
  EXPECT_EQ(err.data(), "stagehost: first line\nstagehost: second [MASKED] line\n");
  EXPECT_TRUE(out.data().empty());
}

TEST(StageLog, AllStreamsShareOneCap) {
  log::StringSink out, err;
  StageLog stage_log(Secrets({}), &out, 100, &err);
  stage_log.Write(1, std::string(80, 'a'));
  stage_log.Write(2, std::string(80, 'b'));
  stage_log.Write(0, std::string(80, 'z'));
  stage_log.Close();
  EXPECT_EQ(stage_log.dropped_bytes(), 140u);
  EXPECT_NE(out.data().find("log truncated"), std::string::npos);
  EXPECT_EQ(out.data().find('z'), std::string::npos) << "stream 0 is past the shared cap";
  EXPECT_EQ(out.data().substr(0, 100), std::string(80, 'a') + std::string(20, 'b'));
}

TEST(StageLog, WritesAfterCloseAreIgnored) {
  log::StringSink out, err;
  StageLog stage_log(Secrets({}), &out, 1 << 20, &err);
  stage_log.Write(1, "kept\n");
  stage_log.Close();
  stage_log.Write(1, "late\n");
  EXPECT_EQ(out.data(), "kept\n");
}

}  // namespace
}  // namespace stagehost
