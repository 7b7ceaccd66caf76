// pickle_test.cc -- pickles written opcode by opcode (never loaded): benign ones pass, malicious
// ones are flagged with the right severity, through GLOBAL, INST, STACK_GLOBAL and the memo, in
// PyTorch zip checkpoints, joblib files and NumPy object arrays.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <string>

#include "pickle_scan.h"

namespace stagehost::security_scan::testing {
namespace {

// Opcode builders (pickletools names).
std::string Short(const std::string& s) {  // SHORT_BINUNICODE
  return std::string("\x8c", 1) + static_cast<char>(s.size()) + s;
}
std::string BinUnicode(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
  return out + s;
}
const std::string kProto2("\x80\x02", 2), kProto4("\x80\x04", 2), kMemoize("\x94", 1),
    kStackGlobal("\x93", 1), kTuple1("\x85", 1), kEmptyTuple = ")", kReduce = "R", kStop = ".";
std::string Global(const std::string& m, const std::string& n) { return "c" + m + "\n" + n + "\n"; }
// An opcode with a one-byte argument (BINPUT q, BINGET h, BININT1 K); the argument may be 0.
std::string Op1(char op, unsigned char arg) { return std::string{op, static_cast<char>(arg)}; }

std::vector<Finding> Scan(const std::string& path, const std::string& data,
                          ModelPolicy policy = {}) {
  std::vector<Finding> out;
  ScanModelFile(path, data, policy, out);
  return out;
}

TEST(PickleWalk, BenignContainersPass) {
  // OrderedDict() with a list of tuples, protocol 2.
  const std::string p = kProto2 + Global("collections", "OrderedDict") + kEmptyTuple + kReduce +
                        Op1('q', 0) + "]" + "(" + BinUnicode("a") + "K\x01" + "\x86" + "a" + "b" +
                        kStop;
  const PickleWalk w = WalkPickle(p);
  EXPECT_TRUE(w.error.empty()) << w.error;
  EXPECT_FALSE(w.truncated);
  EXPECT_EQ(w.pickles, 1u);
  ASSERT_EQ(w.imports.size(), 1u);
  EXPECT_EQ(w.imports[0].module, "collections");
  EXPECT_TRUE(w.imports[0].called);
  EXPECT_TRUE(Scan("ok.pkl", p).empty());
}

TEST(PickleWalk, PosixSystemViaGlobalIsCritical) {
  const std::string p = kProto2 + Global("posix", "system") + Op1('q', 0) + BinUnicode("id") +
                        kTuple1 + kReduce + kStop;
  const auto f = Scan("evil.pkl", p);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kCritical);
  EXPECT_EQ(f[0].rule_id, "pickle-dangerous-global");
  EXPECT_NE(f[0].message.find("GLOBAL posix.system (called)"), std::string::npos) << f[0].message;
}

TEST(PickleWalk, Protocol0InstIsFound) {
  const std::string p = "(S'ls'\nios\nsystem\n.";
  const auto f = Scan("p0.pickle", p);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("INST os.system"), std::string::npos);
}

TEST(PickleWalk, StackGlobalOperandsThroughTheMemo) {
  // Push the names, memoize them, pop them, and bring them back with BINGET before STACK_GLOBAL:
  // a scanner that only looks at the two previous string opcodes sees nothing.
  const std::string p = kProto4 + Short("builtins") + kMemoize + Short("exec") + kMemoize + "0" +
                        "0" + "N" + "0" + Op1('h', 0) + Op1('h', 1) + kStackGlobal +
                        Short("print(1)") + kTuple1 + kReduce + kStop;
  const PickleWalk w = WalkPickle(p);
  ASSERT_EQ(w.imports.size(), 1u);
  EXPECT_TRUE(w.imports[0].resolved);
  EXPECT_EQ(w.imports[0].module + "." + w.imports[0].name, "builtins.exec");
  const auto f = Scan("m.pkl", p);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kCritical);
}

TEST(PickleWalk, LongBinPutAndGetAlsoResolve) {
  const std::string p = kProto4 + Short("subprocess") + std::string("r\x07\x00\x00\x00", 5) + "0" +
                        Short("Popen") + std::string("j\x07\x00\x00\x00", 5) + "\x86" + "0" +
                        std::string("j\x07\x00\x00\x00", 5) + Short("Popen") + kStackGlobal + kStop;
  const PickleWalk w = WalkPickle(p);
  ASSERT_EQ(w.imports.size(), 1u);
  EXPECT_EQ(w.imports[0].module + "." + w.imports[0].name, "subprocess.Popen");
}

TEST(PickleWalk, UnresolvableStackGlobalIsHigh) {
  // The module name is the result of a call, not a literal: treated as a hidden import.
  const std::string p = kProto4 + Global("builtins", "str") + Short("o") + kTuple1 + kReduce +
                        Short("system") + kStackGlobal + kStop;
  const auto f = Scan("hidden.pkl", p);
  bool hidden = false;
  for (const auto& x : f)
    hidden = hidden || (x.rule_id == "pickle-unresolved-global" && x.severity == Severity::kHigh);
  EXPECT_TRUE(hidden);
}

TEST(PickleWalk, UnknownGlobalsAreMediumUnlessAllowListed) {
  const std::string p = kProto2 + Global("sklearn.linear_model._logistic", "LogisticRegression") +
                        kEmptyTuple + "\x81" + "}" + "b" + kStop;
  auto f = Scan("model.joblib", p);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kMedium);
  EXPECT_EQ(f[0].rule_id, "pickle-unknown-global");
  ModelPolicy policy;
  policy.allow_globals = {"sklearn.*"};
  EXPECT_TRUE(Scan("model.joblib", p, policy).empty());
  EXPECT_EQ(ClassifyGlobal("nt", "system", policy, nullptr), Severity::kCritical);
  EXPECT_EQ(ClassifyGlobal("torch._utils", "_rebuild_tensor_v2", policy, nullptr), Severity::kInfo);
  EXPECT_EQ(ClassifyGlobal("webbrowser", "open", policy, nullptr), Severity::kHigh);
  // "os.*" covers submodules (os.path) but not look-alikes (osmosis).
  EXPECT_EQ(ClassifyGlobal("os.path", "join", {}, nullptr), Severity::kCritical);
  EXPECT_EQ(ClassifyGlobal("osmosis", "run", {}, nullptr), Severity::kMedium);
}

TEST(PickleWalk, TruncatedAndGarbageInputNeverThrow) {
  const std::string p = kProto2 + Global("posix", "system") + "X\xff\xff\xff\x7f";
  const PickleWalk w = WalkPickle(p);
  EXPECT_TRUE(w.truncated);
  EXPECT_EQ(w.imports.size(), 1u);  // what was seen before the cut still counts
  const PickleWalk g = WalkPickle(kProto2 + "\xff\xfe");
  EXPECT_NE(g.error.find("unknown opcode 0xff at offset 2"), std::string::npos) << g.error;
  auto f = Scan("junk.pkl", kProto2 + "\xff");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rule_id, "pickle-unparsed");
  EXPECT_TRUE(Scan("random.bin", "\x01\x02\x03 not a pickle").empty());
}

std::string Zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out(1 << 20, '\0');
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open_memory(a, out.data(), out.size(), &used);
  for (const auto& [name, data] : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

TEST(PickleWalk, PyTorchZipCheckpoint) {
  // archive/data.pkl with a tensor rebuild (allowed) plus a persistent id, and a payload.
  const std::string benign =
      kProto2 + Global("torch._utils", "_rebuild_tensor_v2") + "(" + "(" + BinUnicode("storage") +
      Global("torch", "FloatStorage") + BinUnicode("0") + BinUnicode("cpu") + "K\x04" + "t" + "Q" +
      Op1('K', 0) + "K\x04\x85" + "K\x01\x85" + "\x89" + Global("collections", "OrderedDict") +
      kEmptyTuple + kReduce + "t" + kReduce + kStop;
  const std::string zip_ok = Zip({{"archive/data.pkl", benign},
                                  {"archive/data/0", std::string(16, '\0')},
                                  {"archive/version", "3\n"}});
  EXPECT_TRUE(Scan("model.pt", zip_ok).empty());
  const PickleWalk w = WalkPickle(benign);
  EXPECT_TRUE(w.persistent_ids);
  EXPECT_TRUE(w.error.empty()) << w.error;

  const std::string evil =
      kProto2 + Global("runpy", "_run_code") + BinUnicode("x") + "}" + "\x86" + kReduce + kStop;
  const auto f = Scan("model.pt", Zip({{"archive/data.pkl", evil}, {"archive/version", "3\n"}}));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kCritical);
  EXPECT_NE(f[0].message.find("model.pt:archive/data.pkl"), std::string::npos) << f[0].message;
}

TEST(PickleWalk, NumpyObjectArrayInsideNpz) {
  std::string header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
  header.append(128 - 10 - header.size() - 1, ' ');
  header += "\n";
  const std::string npy = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) +
                          '\0' + header + kProto2 + Global("nt", "system") + kStop;
  auto f = Scan("arrays.npz", Zip({{"a.npy", npy}}));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("(object array)"), std::string::npos);
  EXPECT_TRUE(LooksLikeModelFile("weights.npy", ""));
  EXPECT_TRUE(LooksLikeModelFile("noext", kProto4 + "."));
  EXPECT_FALSE(LooksLikeModelFile("src/model.py", "import os"));
}

}  // namespace
}  // namespace stagehost::security_scan::testing
