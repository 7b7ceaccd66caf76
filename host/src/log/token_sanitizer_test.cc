// TokenSanitizer: prefixes and URL parameters masked whatever the split of the writes.
#include "log/token_sanitizer.h"

#include <gtest/gtest.h>

#include <random>

namespace stagehost::log {
namespace {

std::string Sanitize(const std::vector<std::string_view>& writes) {
  StringSink out;
  TokenSanitizer sanitizer(&out, TokenSanitizer::DefaultTokenPrefixes(),
                           TokenSanitizer::DefaultUrlParameters());
  for (std::string_view w : writes) EXPECT_TRUE(sanitizer.Write(w).ok());
  EXPECT_TRUE(sanitizer.Close().ok());
  return out.data();
}

TEST(TokenSanitizerTest, MasksTokenRunAndKeepsPrefix) {
  EXPECT_EQ(Sanitize({"push with glpat-AbC_12.3=x-y done\n"}), "push with glpat-[MASKED] done\n");
  EXPECT_EQ(Sanitize({"job token glcbt-64_abcdef"}), "job token glcbt-[MASKED]");
}

TEST(TokenSanitizerTest, MasksUrlParameterValuesOnly) {
  EXPECT_EQ(Sanitize({"GET /api?private_token=s3cr3t&page=2 HTTP\n"}),
            "GET /api?private_token=[MASKED]&page=2 HTTP\n");
  EXPECT_EQ(Sanitize({"u?a=1&X-Amz-Signature=abc\n"}), "u?a=1&X-Amz-Signature=abc\n")
      << "names are matched as written by GitLab (lower case)";
  EXPECT_EQ(Sanitize({"u?a=1&x-amz-signature=abc#frag"}), "u?a=1&x-amz-signature=[MASKED]#frag");
  EXPECT_EQ(Sanitize({"private_token=plain text"}), "private_token=plain text")
      << "not a query parameter";
}

TEST(TokenSanitizerTest, EmptyValueAndLookalikesUntouched) {
  EXPECT_EQ(Sanitize({"glpat- alone\n"}), "glpat- alone\n");
  EXPECT_EQ(Sanitize({"glpa glp gl g\n"}), "glpa glp gl g\n");
  EXPECT_EQ(Sanitize({"ends with gl"}), "ends with gl");
}

TEST(TokenSanitizerTest, EverySplitGivesTheSameOutput) {
  const std::string input =
      "a glglpat-XYZ123 b ?rss_token=q&x=1 glrt-t0k.en\nc &authenticity_token=zz\"d glpat-";
  const std::string expected = Sanitize({input});
  EXPECT_EQ(expected,
            "a glglpat-[MASKED] b ?rss_token=[MASKED]&x=1 glrt-[MASKED]\nc "
            "&authenticity_token=[MASKED]\"d glpat-");
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    std::string_view view(input);
    EXPECT_EQ(Sanitize({view.substr(0, cut), view.substr(cut)}), expected) << "cut at " << cut;
  }
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::string_view> writes;
    std::string_view rest(input);
    while (!rest.empty()) {
      size_t n = std::uniform_int_distribution<size_t>(1, 5)(random);
      n = std::min(n, rest.size());
      writes.push_back(rest.substr(0, n));
      rest.remove_prefix(n);
    }
    ASSERT_EQ(Sanitize(writes), expected) << "round " << round;
  }
}

TEST(TokenSanitizerTest, TokenOpenAtCloseIsMasked) {
  EXPECT_EQ(Sanitize({"x glpat-abc", "def"}), "x glpat-[MASKED]");
}

}  // namespace
}  // namespace stagehost::log
