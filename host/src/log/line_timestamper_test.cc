// LineTimestamper: one 32-byte stamp per line start, whatever the split.
#include "log/line_timestamper.h"

#include <gtest/gtest.h>

namespace stagehost::log {
namespace {

std::chrono::system_clock::time_point FixedTime() {
  // 2024-02-29T23:59:58.012345Z
  return std::chrono::system_clock::time_point(std::chrono::microseconds(1709251198012345));
}

TEST(LineTimestamperTest, StampsEachLineStartInGitlabFormat) {
  StringSink out;
  LineTimestamper stamper(&out, FixedTime);
  ASSERT_TRUE(stamper.Write("one\ntwo").ok());
  ASSERT_TRUE(stamper.Write(" more\n\nthree").ok());
  const std::string stamp = "2024-02-29T23:59:58.012345Z 00O ";
  ASSERT_EQ(stamp.size(), LineTimestamper::kHeaderSize);
  EXPECT_EQ(out.data(), stamp + "one\n" + stamp + "two more\n" + stamp + "\n" + stamp + "three");
}

TEST(LineTimestamperTest, NoStampInsideAnEscapeSequenceSplitAcrossWrites) {
  StringSink out;
  LineTimestamper stamper(&out, FixedTime);
  ASSERT_TRUE(stamper.Write("a\x1b[3").ok());
  ASSERT_TRUE(stamper.Write("2mgreen\x1b[0m\n").ok());
  std::string text = out.data();
  EXPECT_NE(text.find("\x1b[32mgreen\x1b[0m\n"), std::string::npos);
  EXPECT_EQ(text.size(), LineTimestamper::kHeaderSize + 16);
}

}  // namespace
}  // namespace stagehost::log
