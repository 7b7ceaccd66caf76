// gtest_sample.cc -- a real GoogleTest program for the unit-test plugin's tests: one test of each
// kind GoogleTest reports differently. FLAKY_COUNTER_FILE makes Flaky.PassesSecondTime fail on
// its first run only.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

TEST(Sample, Passes) { EXPECT_EQ(2, 1 + 1); }

TEST(Sample, Fails) { EXPECT_EQ(3, 1 + 1) << "arithmetic is hard"; }

TEST(Sample, Skips) { GTEST_SKIP() << "not on this machine"; }

TEST(Sample, DISABLED_NotYet) { FAIL() << "never runs"; }

TEST(Sample, RecordsProperty) {
  RecordProperty("model", "iris");
  SUCCEED();
}

TEST(Flaky, PassesSecondTime) {
  const char* counter = std::getenv("FLAKY_COUNTER_FILE");
  if (counter == nullptr) GTEST_SKIP() << "FLAKY_COUNTER_FILE not set";
  int runs = 0;
  {
    std::ifstream in(counter);
    in >> runs;
  }
  std::ofstream(counter) << runs + 1;
  EXPECT_GE(runs, 1) << "fails on the first run only";
}
