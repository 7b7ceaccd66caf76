// runner_commands_test.cc -- runner detection, argv rewriting for shards and retries, listings,
// pytest node ids from JUnit cases, globs.
#include "runner_commands.h"

#include <gtest/gtest.h>

#include "glob.h"
#include "test_helpers.h"

namespace stagehost::unit_test {
namespace {

using V = std::vector<std::string>;

TEST(Runner, Detection) {
  EXPECT_EQ(ResolveRunner("auto", {"/usr/bin/python3", "-m", "pytest", "-q"}), RunnerKind::kPytest);
  EXPECT_EQ(ResolveRunner("auto", {"pytest"}), RunnerKind::kPytest);
  EXPECT_EQ(ResolveRunner("auto", {"/usr/bin/ctest", "--output-junit", "x"}), RunnerKind::kCtest);
  EXPECT_EQ(ResolveRunner("auto", {"./unit_tests", "--gtest_output=xml:a.xml"}),
            RunnerKind::kGtest);
  EXPECT_EQ(ResolveRunner("auto", {"npm", "test"}), RunnerKind::kNone);
  EXPECT_EQ(ResolveRunner("gtest", {"./t"}), RunnerKind::kGtest);
  EXPECT_EQ(ResolveRunner("none", {"pytest"}), RunnerKind::kNone);
}

TEST(Runner, PytestSelectsByDeselectingTheRest) {
  V argv = {"python3", "-m", "pytest", "tests", "--junitxml=build/j.xml"};
  V out = SelectArgv(RunnerKind::kPytest, argv, {"tests/a.py::t1"},
                     {"tests/a.py::t1", "tests/a.py::t2"}, "/tmp/r.xml");
  EXPECT_EQ(out, (V{"python3", "-m", "pytest", "tests", "--junitxml=/tmp/r.xml",
                    "--deselect=tests/a.py::t2"}));
  V list = ListArgv(RunnerKind::kPytest, {"pytest", "-q", "--junitxml", "j.xml", "-k", "x", "-vv"});
  EXPECT_EQ(list, (V{"pytest", "-k", "x", "--collect-only", "-q"}));
}

TEST(Runner, GtestFilterReplacesTheUsersFilter) {
  V out = SelectArgv(RunnerKind::kGtest, {"./t", "--gtest_filter=A.*", "--gtest_output=xml:a.xml"},
                     {"A.x", "B.y"}, {}, "/tmp/r.xml");
  EXPECT_EQ(out, (V{"./t", "--gtest_filter=A.x:B.y", "--gtest_output=xml:/tmp/r.xml"}));
  // A shard keeps the user's output path.
  V shard = SelectArgv(RunnerKind::kGtest, {"./t", "--gtest_output=xml:a.xml"}, {"A.x"}, {}, "");
  EXPECT_EQ(shard, (V{"./t", "--gtest_output=xml:a.xml", "--gtest_filter=A.x"}));
}

TEST(Runner, CtestRegexIsAnchoredAndEscaped) {
  V out = SelectArgv(RunnerKind::kCtest, {"ctest", "-R", "unit", "--output-junit", "j.xml", "-j2"},
                     {"a.b", "c+(d)"}, {}, "/tmp/r.xml");
  EXPECT_EQ(out,
            (V{"ctest", "-j2", "-R", "^(a\\.b|c\\+\\(d\\))$", "--output-junit", "/tmp/r.xml"}));
}

TEST(Runner, ParsesListings) {
  EXPECT_EQ(ParseTestList(RunnerKind::kPytest,
                          "tests/a.py::t1\ntests/a.py::C::t2[x y]\n\n2 tests collected in 0.01s\n"),
            (V{"tests/a.py::t1", "tests/a.py::C::t2[x y]"}));
  EXPECT_EQ(ParseTestList(RunnerKind::kGtest,
                          "Running main() from gtest_main.cc\nSuite.\n  A\n  B  # GetParam() = 1\n"
                          "Inst/P.  # TypeParam = int\n  C/0\n"),
            (V{"Suite.A", "Suite.B", "Inst/P.C/0"}));
  EXPECT_EQ(ParseTestList(RunnerKind::kCtest,
                          R"({"kind":"ctestInfo","tests":[{"name":"a"},{"name":"b"}]})"),
            (V{"a", "b"}));
  EXPECT_THROW(ParseTestList(RunnerKind::kCtest, "not json"), UsageError);
}

TEST(Runner, PytestNodeIdFromJUnit) {
  stagehost::testutil::TempDir dir;
  stagehost::testutil::WriteFile(dir.Sub("tests") + "/test_m.py", "");
  TestCase tc;
  tc.classname = "tests.test_m.TestGroup";
  tc.name = "test_x[1-2]";
  EXPECT_EQ(SelectionId(RunnerKind::kPytest, tc, dir.path()),
            "tests/test_m.py::TestGroup::test_x[1-2]");
  tc.classname = "tests.test_m";
  EXPECT_EQ(SelectionId(RunnerKind::kPytest, tc, dir.path()), "tests/test_m.py::test_x[1-2]");
  tc.file = "tests/test_m.py";  // xunit1
  tc.classname = "tests.test_m.TestGroup";
  EXPECT_EQ(SelectionId(RunnerKind::kPytest, tc, "/nonexistent"),
            "tests/test_m.py::TestGroup::test_x[1-2]");
  tc.classname = "Suite";
  tc.name = "Case";
  EXPECT_EQ(SelectionId(RunnerKind::kGtest, tc, ""), "Suite.Case");
  EXPECT_EQ(SelectionId(RunnerKind::kCtest, tc, ""), "Case");
}

TEST(Glob, Matching) {
  EXPECT_TRUE(GlobMatch("**/*.xml", "a.xml"));
  EXPECT_TRUE(GlobMatch("**/*.xml", "a/b/c.xml"));
  EXPECT_TRUE(GlobMatch("build/TEST-*.xml", "build/TEST-foo.xml"));
  EXPECT_FALSE(GlobMatch("build/*.xml", "build/x/y.xml"));
  EXPECT_TRUE(GlobMatch("build/**", "build/x/y.xml"));
  EXPECT_FALSE(CheckGlob("/etc/*.xml", "junit[0]").empty());
  EXPECT_NE(CheckGlob("../x.xml", "junit[1]").find("junit[1] \"../x.xml\""), std::string::npos);
}

}  // namespace
}  // namespace stagehost::unit_test
