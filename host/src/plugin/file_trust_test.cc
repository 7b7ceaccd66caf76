// Tests for plugin/file_trust: file policy, allow-list and Ed25519 signatures (plugin-abi.md
// §16/9).
#include "plugin/file_trust.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/sha256.h"

namespace stagehost {
namespace {

namespace fs = std::filesystem;

constexpr char kPluginBytes[] =
    "\x7f"
    "ELF pretend plugin bytes";

testing::AssertionResult Contains(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey NewKey(const char* type, const char* curve = nullptr) {
  return Pkey(curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                    : EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

std::string PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// Signs the 32 raw digest bytes, as the vendor's release tooling would.
std::string SignDigest(EVP_PKEY* key, const std::string& hex) {
  Sha256Digest digest = HexToDigest(hex).value();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string sig(64, '\0');
  size_t len = sig.size();
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           digest.data(), digest.size()),
            1);
  EXPECT_EQ(len, 64u);
  return sig;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(len));
  return out;
}

class FileTrustTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = testing::TempDir() + "file_trust_test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    plugin_ = Write("libdemo.so", kPluginBytes);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Sets the mode explicitly: the umask must not decide what a permission test sees.
  fs::path Write(const std::string& name, const std::string& content, mode_t mode = 0644) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  Result<TrustPolicy> PolicyWithAllowList(const std::string& json) {
    return LoadTrustPolicy(Write("allow.json", json), {});
  }

  Result<TrustPolicy> PolicyWithKeys(const std::vector<EVP_PKEY*>& keys) {
    std::vector<fs::path> files;
    for (EVP_PKEY* key : keys) {
      files.push_back(Write("key" + std::to_string(files.size()) + ".pem", PublicPem(key)));
    }
    return LoadTrustPolicy(std::nullopt, files);
  }

  fs::path dir_;
  fs::path plugin_;
};

TEST_F(FileTrustTest, RegularFileAccepted) {
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, TrustPolicy{});
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  EXPECT_TRUE(plugin->fd.valid());
  EXPECT_EQ(plugin->path, plugin_);
  EXPECT_EQ(plugin->sha256, Sha256Hex(kPluginBytes));
  EXPECT_FALSE(plugin->allowed_name.has_value());
  EXPECT_TRUE(::fcntl(plugin->fd.get(), F_GETFD) & FD_CLOEXEC);
}

TEST_F(FileTrustTest, HashedFdStillHoldsHashedBytesAfterPathSwap) {
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, TrustPolicy{});
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  fs::rename(Write("evil.so", "evil bytes"), plugin_);
  Result<std::string> loaded = Sha256HexOfFile("/proc/self/fd/" + std::to_string(plugin->fd.get()));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, plugin->sha256);
}

TEST_F(FileTrustTest, SymlinkRefused) {
  fs::create_symlink(plugin_, dir_ / "link.so");
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(dir_ / "link.so", TrustPolicy{});
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(plugin.status().message(), "is a symbolic link"));
}

TEST_F(FileTrustTest, WorldWritableFileRefused) {
  ASSERT_EQ(::chmod(plugin_.c_str(), 0666), 0);
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, TrustPolicy{});
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(plugin.status().message(), "unsafe permissions on " + plugin_.string() +
                                           ": mode 0666 is writable by group or others");
}

TEST_F(FileTrustTest, GroupWritableFileRefused) {
  ASSERT_EQ(::chmod(plugin_.c_str(), 0664), 0);
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, TrustPolicy{});
  ASSERT_FALSE(plugin.ok());
  EXPECT_TRUE(Contains(plugin.status().message(), "mode 0664"));
}

TEST_F(FileTrustTest, GroupWritableDirectoryRefused) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0775), 0);
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, TrustPolicy{});
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(plugin.status().message(), "unsafe permissions on directory " + dir_.string() +
                                           ": mode 0775 is writable by group or others");
}

TEST_F(FileTrustTest, ForeignOwnerRefused) {
  if (::chown(plugin_.c_str(), 4242, 4242) != 0) GTEST_SKIP() << "needs root to chown";
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, TrustPolicy{});
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(plugin.status().message(), "owned by uid 4242"));
}

TEST_F(FileTrustTest, NonRegularFilesRefused) {
  fs::create_directory(dir_ / "dir.so");
  Result<VerifiedPlugin> dir = OpenAndVerifyPlugin(dir_ / "dir.so", TrustPolicy{});
  ASSERT_FALSE(dir.ok());
  EXPECT_TRUE(Contains(dir.status().message(), "not a regular file (directory)"));

  ASSERT_EQ(::mkfifo((dir_ / "fifo.so").c_str(), 0600), 0);
  Result<VerifiedPlugin> fifo = OpenAndVerifyPlugin(dir_ / "fifo.so", TrustPolicy{});
  ASSERT_FALSE(fifo.ok());
  EXPECT_TRUE(Contains(fifo.status().message(), "not a regular file (fifo)"));
}

TEST_F(FileTrustTest, MissingFileIsNotFound) {
  EXPECT_EQ(OpenAndVerifyPlugin(dir_ / "nope.so", TrustPolicy{}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(OpenAndVerifyPlugin(dir_ / "nodir" / "x.so", TrustPolicy{}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(FileTrustTest, AllowListHitNamesThePlugin) {
  // Upper-case hex in the file is normalised.
  std::string upper = Sha256Hex(kPluginBytes);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Result<TrustPolicy> policy = PolicyWithAllowList("{\"demo\": \"" + upper + "\"}");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  EXPECT_EQ(plugin->allowed_name, "demo");
}

TEST_F(FileTrustTest, AllowListAcceptsAnArrayForRollingUpgrades) {
  Result<TrustPolicy> policy = PolicyWithAllowList("{\"demo\": [\"" + Sha256Hex("old") + "\", \"" +
                                                   Sha256Hex(kPluginBytes) + "\"]}");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->allowed_digests.size(), 2u);
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  EXPECT_EQ(plugin->allowed_name, "demo");
}

TEST_F(FileTrustTest, AllowListMissReportsActualAndExpectedDigests) {
  Result<TrustPolicy> policy = PolicyWithAllowList("{\"demo\": \"" + Sha256Hex("old") + "\"}");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(plugin.status().message(),
            plugin_.string() + ": digest " + Sha256Hex(kPluginBytes) +
                " is not in the allow-list (allowed for \"demo\": " + Sha256Hex("old") + ")");
}

TEST_F(FileTrustTest, TamperedFileRefused) {
  Result<TrustPolicy> policy =
      PolicyWithAllowList("{\"demo\": \"" + Sha256Hex(kPluginBytes) + "\"}");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  std::string tampered = kPluginBytes;
  tampered[5] ^= 1;
  Write("libdemo.so", tampered);
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(plugin.status().message(), "digest " + Sha256Hex(tampered) + " is not"));
}

TEST_F(FileTrustTest, BadAllowListsRejectedWithClearErrors) {
  const std::string digest = Sha256Hex(kPluginBytes);
  const struct {
    std::string json;
    std::string error;
  } kCases[] = {
      {"{\"demo\": ", "invalid JSON: parse error at line 1, column 10"},
      {"[\"" + digest + "\"]", "expected a JSON object"},
      {"{\"demo\": \"abc\"}", "\"demo\": \"abc\" is not a sha256 digest (64 hex digits)"},
      {"{\"demo\": 5}", "expected a sha256 hex string or a non-empty array"},
      {"{\"demo\": []}", "expected a sha256 hex string or a non-empty array"},
      {"{\"demo\": [null]}", "expected a sha256 hex string, got null"},
      {"{\"Demo\": \"" + digest + "\"}", "\"Demo\": not a plugin name"},
      {"{\"a\": \"" + digest + "\", \"b\": \"" + digest + "\"}", "listed for both \"a\" and \"b\""},
      {"{}", "no entries"},
  };
  for (const auto& c : kCases) {
    Result<TrustPolicy> policy = PolicyWithAllowList(c.json);
    ASSERT_FALSE(policy.ok()) << c.json;
    EXPECT_EQ(policy.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_TRUE(
        Contains(policy.status().message(), "allow-list " + (dir_ / "allow.json").string()));
    EXPECT_TRUE(Contains(policy.status().message(), c.error)) << c.json;
  }
}

TEST_F(FileTrustTest, WritableAllowListRefused) {
  fs::path file = Write("allow.json", "{\"demo\": \"" + Sha256Hex(kPluginBytes) + "\"}", 0646);
  Result<TrustPolicy> policy = LoadTrustPolicy(file, {});
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(LoadTrustPolicy(dir_ / "missing.json", {}).status().code(), StatusCode::kNotFound);
}

TEST_F(FileTrustTest, BadKeyFilesRejected) {
  Result<TrustPolicy> garbage = LoadTrustPolicy(std::nullopt, {Write("k.pem", "hello")});
  ASSERT_FALSE(garbage.ok());
  EXPECT_TRUE(Contains(garbage.status().message(), "not a PEM public key"));

  Pkey ec = NewKey("EC", "P-256");
  ASSERT_TRUE(ec);
  Result<TrustPolicy> wrong_type = PolicyWithKeys({ec.get()});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(wrong_type.status().message(), "key type EC is not Ed25519"));
}

class FileTrustSignatureTest : public FileTrustTest {
 protected:
  void SetUp() override {
    FileTrustTest::SetUp();
    vendor_ = NewKey("ED25519");
    other_ = NewKey("ED25519");
    ASSERT_TRUE(vendor_ && other_);
  }
  Pkey vendor_;
  Pkey other_;
};

TEST_F(FileTrustSignatureTest, RawSignatureVerifies) {
  Write("libdemo.so.sig", SignDigest(vendor_.get(), Sha256Hex(kPluginBytes)));
  Result<TrustPolicy> policy = PolicyWithKeys({other_.get(), vendor_.get()});  // any key will do
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
}

TEST_F(FileTrustSignatureTest, Base64SignatureAccepted) {
  Write("libdemo.so.sig", Base64(SignDigest(vendor_.get(), Sha256Hex(kPluginBytes))) + "\n");
  Result<TrustPolicy> policy = PolicyWithKeys({vendor_.get()});
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
}

TEST_F(FileTrustSignatureTest, WrongKeyRefused) {
  Write("libdemo.so.sig", SignDigest(other_.get(), Sha256Hex(kPluginBytes)));
  Result<TrustPolicy> policy = PolicyWithKeys({vendor_.get()});
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(plugin.status().message(),
            plugin_.string() + ": Ed25519 signature does not verify with any trusted key");
}

TEST_F(FileTrustSignatureTest, CorruptedSignatureRefused) {
  std::string sig = SignDigest(vendor_.get(), Sha256Hex(kPluginBytes));
  sig[7] ^= 0x20;
  Write("libdemo.so.sig", sig);
  Result<TrustPolicy> policy = PolicyWithKeys({vendor_.get()});
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Result<VerifiedPlugin> plugin = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_FALSE(plugin.ok());
  EXPECT_TRUE(Contains(plugin.status().message(), "does not verify with any trusted key"));
}

TEST_F(FileTrustSignatureTest, SignatureOfOtherBytesRefused) {
  Write("libdemo.so.sig", SignDigest(vendor_.get(), Sha256Hex("the release build")));
  Result<TrustPolicy> policy = PolicyWithKeys({vendor_.get()});
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_FALSE(OpenAndVerifyPlugin(plugin_, *policy).ok());
}

TEST_F(FileTrustSignatureTest, MissingOrMalformedSignatureRefused) {
  Result<TrustPolicy> policy = PolicyWithKeys({vendor_.get()});
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  Result<VerifiedPlugin> missing = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(missing.status().message(), "missing signature file " + plugin_.string() + ".sig");

  Write("libdemo.so.sig", "c2hvcnQ=\n");  // valid base64, but 5 bytes
  Result<VerifiedPlugin> short_sig = OpenAndVerifyPlugin(plugin_, *policy);
  ASSERT_FALSE(short_sig.ok());
  EXPECT_EQ(short_sig.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(short_sig.status().message(), "not an Ed25519 signature"));
}

}  // namespace
}  // namespace stagehost
