// versions_test.cc -- PEP 440 and SemVer ordering tables, normalisation and invalid inputs.
#include "versions.h"

#include <gtest/gtest.h>

namespace stagehost::security_scan::testing {
namespace {

int Cmp(Ecosystem e, const char* a, const char* b) {
  auto c = CompareVersions(e, a, b);
  EXPECT_TRUE(c.has_value()) << a << " vs " << b;
  return c.value_or(99);
}

TEST(Pep440, OrderingTable) {
  // Each version is strictly greater than the one before (PEP 440's own examples and more).
  const char* ordered[] = {
      "0",         "0.9",       "1.0.dev0", "1.0.dev5", "1.0a1.dev1", "1.0a1", "1.0a2",
      "1.0b1",     "1.0rc1",    "1.0",      "1.0+abc",  "1.0+abc.5",  "1.0+5", "1.0.post1.dev0",
      "1.0.post1", "1.0.post2", "1.0.1",    "1.1.dev1", "1.1",        "2.0",   "10.0",
      "1!0.1"};
  for (std::size_t i = 1; i < std::size(ordered); ++i) {
    EXPECT_EQ(Cmp(Ecosystem::kPyPI, ordered[i - 1], ordered[i]), -1)
        << ordered[i - 1] << " < " << ordered[i];
    EXPECT_EQ(Cmp(Ecosystem::kPyPI, ordered[i], ordered[i - 1]), 1)
        << ordered[i] << " > " << ordered[i - 1];
  }
}

TEST(Pep440, NormalisedSpellingsAreEqual) {
  const std::pair<const char*, const char*> same[] = {{"1.0", "1.0.0"},
                                                      {"1.0", "v1.0"},
                                                      {"1.0-1", "1.0.post1"},
                                                      {"1.0.rev1", "1.0.post1"},
                                                      {"1.0ALPHA1", "1.0a1"},
                                                      {"1.0c1", "1.0rc1"},
                                                      {"1.0-pre2", "1.0rc2"},
                                                      {"1.0.dev", "1.0.dev0"},
                                                      {"1.0a", "1.0a0"},
                                                      {"0!1.0", "1.0"},
                                                      {"1.0+Ubuntu-1", "1.0+ubuntu.1"},
                                                      {" 1.0 ", "1.0"}};
  for (const auto& [a, b] : same) EXPECT_EQ(Cmp(Ecosystem::kPyPI, a, b), 0) << a << " == " << b;
  EXPECT_EQ(Pep440Version::Parse("1.0-1")->ToString(), "1.0.post1");
  EXPECT_EQ(Pep440Version::Parse("2!1.0RC1.DEV3+Local.7")->ToString(), "2!1.0rc1.dev3+local.7");
}

TEST(Pep440, RejectsNonVersions) {
  for (const char* bad : {"", "abc", "1.0.x", "1..0", "1.0+", "1.0-gamma1", "=1.0"}) {
    EXPECT_FALSE(Pep440Version::Parse(bad).has_value()) << bad;
  }
  EXPECT_FALSE(CompareVersions(Ecosystem::kPyPI, "1.0", "banana").has_value());
  EXPECT_FALSE(CompareVersions(Ecosystem::kPyPI, "0", "banana").has_value());
}

TEST(SemVer, OrderingTable) {
  // semver.org section 11's example chain, and numeric (not lexical) comparisons.
  const char* ordered[] = {
      "0",          "0.0.1",        "1.0.0-alpha",   "1.0.0-alpha.1", "1.0.0-alpha.beta",
      "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",    "1.0.0",
      "1.2.0",      "1.10.0",       "2.0.0"};
  for (std::size_t i = 1; i < std::size(ordered); ++i) {
    EXPECT_EQ(Cmp(Ecosystem::kNpm, ordered[i - 1], ordered[i]), -1)
        << ordered[i - 1] << " < " << ordered[i];
  }
  EXPECT_EQ(Cmp(Ecosystem::kNpm, "1.0.0+build.5", "1.0.0"), 0);
  EXPECT_EQ(Cmp(Ecosystem::kNpm, "v1.2.3", "1.2.3"), 0);
  EXPECT_FALSE(SemVer::Parse("01.0.0").has_value());
  EXPECT_FALSE(SemVer::Parse("1.0.0-").has_value());
  EXPECT_FALSE(SemVer::Parse("1.2.3.4").has_value());
}

TEST(Names, Pep503Normalisation) {
  EXPECT_EQ(NormalizePyPIName("Django_REST.framework"), "django-rest-framework");
  EXPECT_EQ(NormalizePyPIName("a--_b"), "a-b");
  EXPECT_EQ(ParseEcosystem("PyPI"), Ecosystem::kPyPI);
  EXPECT_EQ(ParseEcosystem("Debian:12"), Ecosystem::kOther);
}

}  // namespace
}  // namespace stagehost::security_scan::testing
