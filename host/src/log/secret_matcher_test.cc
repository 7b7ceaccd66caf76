// SecretMatcher tests: every occurrence end and every live partial match, against brute force.
#include "log/secret_matcher.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace stagehost::log {
namespace {

std::shared_ptr<const SecretMatcher> Compile(const std::vector<std::string>& secrets) {
  auto matcher = SecretMatcher::Create(secrets);
  EXPECT_TRUE(matcher.ok()) << matcher.status().ToString();
  return *matcher;
}

// For each end position (index after the last byte), the longest secret ending there; 0 if none.
std::vector<size_t> NaiveLongestEndingAt(std::string_view text,
                                         const std::vector<std::string>& secrets) {
  std::vector<size_t> longest(text.size() + 1, 0);
  for (const std::string& s : secrets) {
    for (size_t pos = 0; !s.empty() && pos + s.size() <= text.size(); ++pos) {
      if (std::memcmp(text.data() + pos, s.data(), s.size()) == 0) {
        longest[pos + s.size()] = std::max(longest[pos + s.size()], s.size());
      }
    }
  }
  return longest;
}

// Longest suffix of `text` that is a prefix (possibly all) of some secret.
size_t NaiveSuffixPrefix(std::string_view text, const std::vector<std::string>& secrets) {
  size_t best = 0;
  for (const std::string& s : secrets) {
    for (size_t l = std::min(s.size(), text.size()); l > best; --l) {
      if (std::memcmp(text.data() + text.size() - l, s.data(), l) == 0) {
        best = l;
        break;
      }
    }
  }
  return best;
}

// Scans `text` in chunks of the given sizes and checks each reported end and each live length.
void CheckScan(const std::vector<std::string>& secrets, std::string_view text,
               const std::vector<size_t>& chunk_sizes, const std::string& label) {
  auto matcher = Compile(secrets);
  const std::vector<size_t> expected = NaiveLongestEndingAt(text, secrets);
  std::vector<size_t> got(text.size() + 1, 0);
  SecretMatcher::State state;
  size_t base = 0;
  for (size_t chunk : chunk_sizes) {
    std::string_view data = text.substr(base, chunk);
    for (size_t i = 0; i < data.size();) {
      size_t length = 0;
      const size_t next = matcher->Scan(&state, data, i, &length);
      ASSERT_GT(next, i) << label;
      if (length != 0) got[base + next] = length;
      i = next;
    }
    base += data.size();
    ASSERT_EQ(matcher->LiveLength(state), NaiveSuffixPrefix(text.substr(0, base), secrets))
        << label << " at " << base;
  }
  ASSERT_EQ(base, text.size());
  for (size_t end = 0; end <= text.size(); ++end) {
    ASSERT_EQ(got[end], expected[end]) << label << " end " << end;
  }
}

TEST(SecretMatcherTest, EmptySetMatchesNothing) {
  auto matcher = Compile({});
  EXPECT_TRUE(matcher->empty());
  EXPECT_FALSE(matcher->ContainsAny("anything at all"));
  SecretMatcher::State state;
  size_t length = 7;
  EXPECT_EQ(matcher->Scan(&state, "abc", 0, &length), 3u);
  EXPECT_EQ(length, 0u);
}

TEST(SecretMatcherTest, IgnoresDuplicatesAndEmptyValues) {
  auto matcher = Compile({"", "token-1", "token-1", "other", ""});
  EXPECT_EQ(matcher->secret_count(), 2u);
  EXPECT_EQ(matcher->max_secret_length(), 7u);
  EXPECT_TRUE(matcher->ContainsAny("a token-1 b"));
  EXPECT_FALSE(matcher->ContainsAny("a token-2 b"));
}

TEST(SecretMatcherTest, AcceptsStringViews) {
  const std::vector<std::string_view> secrets = {"alpha", "beta"};
  auto matcher = SecretMatcher::Create(secrets);
  ASSERT_TRUE(matcher.ok());
  EXPECT_TRUE((*matcher)->ContainsAny("xbetax"));
}

TEST(SecretMatcherTest, RefusesOversizedSets) {
  const std::vector<std::string> secrets = {std::string(SecretMatcher::kMaxTotalBytes + 1, 'x')};
  auto matcher = SecretMatcher::Create(secrets);
  ASSERT_FALSE(matcher.ok());
  EXPECT_EQ(matcher.status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretMatcherTest, ReportsLongestSecretAtEachEnd) {
  CheckScan({"aab"}, "aaab", {4}, "border");
  CheckScan({"abcabd"}, "xxabcabcabdyy", {7, 6}, "border split");
  CheckScan({"b", "abc", "bcd", "abcd"}, "zabcdz", {1, 1, 1, 1, 1, 1}, "nested");
  CheckScan({"he", "she", "his", "hers"}, "ushers ahishers", {15}, "classic");
}

TEST(SecretMatcherTest, BinaryAndHighBytes) {
  const std::string nul_secret("\0\xff\x80\0", 4);
  CheckScan({nul_secret, "\xc3\xa9t\xc3\xa9"}, std::string("..\0\xff\x80\0..\xc3\xa9t\xc3\xa9", 14),
            {3, 3, 3, 5}, "binary");
}

// Random texts over several alphabets, including full bytes (so the 4-byte filter window meets
// every byte value) and secrets of one byte (the narrowest filter).
TEST(SecretMatcherTest, RandomAgainstBruteForce) {
  std::mt19937_64 rng(99);
  auto uniform = [&rng](size_t lo, size_t hi) { return lo + rng() % (hi - lo + 1); };
  for (int n = 0; n < 20000; ++n) {
    const size_t alphabet = n % 3 == 0 ? 256 : uniform(2, 6);
    auto byte = [&] {
      return static_cast<char>(n % 3 == 0 ? rng() % 256 : 'a' + rng() % alphabet);
    };
    std::vector<std::string> secrets(uniform(1, 12));
    const size_t min_len = uniform(1, 6);
    for (std::string& s : secrets) {
      s.resize(uniform(min_len, min_len + 12));
      for (char& c : s) c = byte();
    }
    std::string text;
    const size_t target = uniform(0, 200);
    while (text.size() < target) {
      if (rng() % 4 == 0) {
        const std::string& s = secrets[rng() % secrets.size()];
        text += s.substr(0, uniform(1, s.size()));
      } else {
        text += byte();
      }
    }
    std::vector<size_t> chunks;
    for (size_t left = text.size(); left > 0;) {
      const size_t c = std::min(left, uniform(0, 12));
      chunks.push_back(c);
      left -= c;
    }
    CheckScan(secrets, text, chunks, "case " + std::to_string(n));
    if (HasFatalFailure()) return;
  }
}

TEST(SecretMatcherTest, ThousandSecretsOfMixedLengths) {
  std::mt19937_64 rng(5);
  std::vector<std::string> secrets;
  for (int i = 0; i < 1000; ++i) {
    std::string s(std::uniform_int_distribution<size_t>(8, 64)(rng), ' ');
    for (char& c : s) c = static_cast<char>(33 + rng() % 94);
    secrets.push_back(s);
  }
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += "some ordinary log text 12345 ";
    if (i % 9 == 0) text += secrets[rng() % secrets.size()];
    if (i % 5 == 0) text += secrets[rng() % secrets.size()].substr(0, 12);
  }
  CheckScan(secrets, text, {text.size() / 3, text.size() / 3, text.size() - 2 * (text.size() / 3)},
            "thousand");
}

}  // namespace
}  // namespace stagehost::log
