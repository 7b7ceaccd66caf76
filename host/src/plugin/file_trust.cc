// Plugin file policy, SHA-256 allow-list and Ed25519 signature checks on one open fd.
#include "plugin/file_trust.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "util/file_type.h"
#include "util/sha256.h"

namespace stagehost {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxConfigFileSize = 1 << 20;
constexpr size_t kMaxSignatureFileSize = 4096;
constexpr size_t kEd25519SignatureSize = 64;

template <auto kFree>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using EncodeCtxPtr = std::unique_ptr<EVP_ENCODE_CTX, OpenSslDeleter<EVP_ENCODE_CTX_free>>;

// Empties OpenSSL's thread-local error queue, so a stale entry never surfaces in an unrelated
// caller, and returns the reason of the oldest entry.
std::string TakeOpenSslError() {
  const char* reason = ERR_reason_error_string(ERR_peek_error());
  std::string text = reason != nullptr ? reason : "unknown OpenSSL error";
  ERR_clear_error();
  return text;
}

// Whoever may write the file (or rename entries in the directory) decides what code the host runs,
// so only root and the host's own user may own it and nobody else may write it.
Status CheckOwnerAndMode(const struct stat& st, const std::string& what) {
  uid_t euid = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != euid) {
    return PermissionDenied("unsafe ownership of " + what + ": owned by uid " +
                            std::to_string(st.st_uid) + ", not root or the effective uid " +
                            std::to_string(euid));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return PermissionDenied("unsafe permissions on " + what + ": mode " + DescribeMode(st.st_mode) +
                            " is writable by group or others");
  }
  return Status::Ok();
}

// Reads a small regular file relative to `dir_fd`. O_NONBLOCK keeps a FIFO from hanging the open.
Result<std::string> ReadSmallFile(int dir_fd, const std::string& name, size_t max_size,
                                  const std::string& what, bool check_owner_and_mode) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return ErrnoStatus("open " + what, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + what, errno);
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument(what + ": not a regular file (" + FileTypeName(st.st_mode) + ")");
  }
  if (check_owner_and_mode) STAGEHOST_RETURN_IF_ERROR(CheckOwnerAndMode(st, what));
  std::string text;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read " + what, errno);
    if (n == 0) return text;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_size) {
      return InvalidArgument(what + ": larger than " + std::to_string(max_size) + " bytes");
    }
  }
}

bool IsPluginName(std::string_view name) {
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (name.empty() || !lower_or_digit(name[0])) return false;
  for (char c : name) {
    if (!lower_or_digit(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

PkeyPtr ParsePublicKey(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

Status LoadAllowList(const fs::path& file, TrustPolicy& policy) {
  const std::string what = "allow-list " + file.string();
  STAGEHOST_ASSIGN_OR_RETURN(std::string text,
                             ReadSmallFile(AT_FDCWD, file, kMaxConfigFileSize, what, true));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // Drop the "[json.exception.parse_error.101] " tag; keep line, column and reason.
    std::string_view reason = e.what();
    if (size_t tag_end = reason.find("] "); tag_end != reason.npos)
      reason.remove_prefix(tag_end + 2);
    return InvalidArgument(what + ": invalid JSON: " + std::string(reason));
  }
  if (!doc.is_object()) {
    return InvalidArgument(what +
                           ": expected a JSON object mapping plugin names to sha256 digests");
  }
  for (const auto& [name, value] : doc.items()) {
    const std::string where = what + ": \"" + name + "\"";
    if (!IsPluginName(name)) {
      return InvalidArgument(where + ": not a plugin name ([a-z0-9][a-z0-9._-]*)");
    }
    if (!value.is_string() && (!value.is_array() || value.empty())) {
      return InvalidArgument(where + ": expected a sha256 hex string or a non-empty array of them");
    }
    for (const nlohmann::json& entry : value.is_array() ? value : nlohmann::json::array({value})) {
      if (!entry.is_string()) {
        return InvalidArgument(where + ": expected a sha256 hex string, got " + entry.type_name());
      }
      const std::string& given = entry.get_ref<const std::string&>();
      Result<Sha256Digest> digest = HexToDigest(given);
      if (!digest.ok()) {
        return InvalidArgument(where + ": \"" + given + "\" is " + digest.status().message());
      }
      auto [it, inserted] = policy.allowed_digests.emplace(DigestToHex(*digest), name);
      if (!inserted && it->second != name) {
        return InvalidArgument(what + ": digest " + it->first + " is listed for both \"" +
                               it->second + "\" and \"" + name + "\"");
      }
    }
  }
  // An empty map means "no allow-list"; reading `{}` that way would silently allow every plugin.
  if (policy.allowed_digests.empty()) {
    return InvalidArgument(what + ": no entries (drop the allow-list to allow any plugin)");
  }
  return Status::Ok();
}

Status LoadTrustedKey(const fs::path& file, TrustPolicy& policy) {
  const std::string what = "trusted key " + file.string();
  STAGEHOST_ASSIGN_OR_RETURN(std::string pem,
                             ReadSmallFile(AT_FDCWD, file, kMaxConfigFileSize, what, true));
  PkeyPtr key = ParsePublicKey(pem);
  if (!key) {
    return InvalidArgument(what +
                           ": not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\"; " +
                           "OpenSSL: " + TakeOpenSslError() + ")");
  }
  if (!EVP_PKEY_is_a(key.get(), "ED25519")) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return InvalidArgument(what + ": key type " + (type != nullptr ? type : "unknown") +
                           " is not Ed25519");
  }
  policy.trusted_keys_pem.push_back(std::move(pem));
  return Status::Ok();
}

// Signature files hold 64 raw bytes or their base64 (88 characters), so the two cannot be confused.
Result<std::string> DecodeSignature(const std::string& text) {
  if (text.size() == kEd25519SignatureSize) return text;
  EncodeCtxPtr ctx(EVP_ENCODE_CTX_new());
  if (!ctx) return Internal("EVP_ENCODE_CTX_new failed");
  std::string decoded(text.size() + 3, '\0');  // base64 never decodes to more bytes than it has
  auto* out = reinterpret_cast<unsigned char*>(decoded.data());
  int len = 0;
  int final_len = 0;
  EVP_DecodeInit(ctx.get());
  bool valid =
      EVP_DecodeUpdate(ctx.get(), out, &len, reinterpret_cast<const unsigned char*>(text.data()),
                       static_cast<int>(text.size())) >= 0 &&
      EVP_DecodeFinal(ctx.get(), out + len, &final_len) == 1;
  decoded.resize(valid ? static_cast<size_t>(len + final_len) : 0);
  if (decoded.size() != kEd25519SignatureSize) {
    ERR_clear_error();
    return PermissionDenied("not an Ed25519 signature (64 raw bytes or their base64)");
  }
  return decoded;
}

bool VerifiesWith(EVP_PKEY* key, const std::string& signature, const Sha256Digest& digest) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  // Ed25519 is a one-shot scheme: no message digest (NULL md) and EVP_DigestVerify, not Update.
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), digest.data(), digest.size()) == 1;
}

// The signature file is read from the directory already checked; it authenticates itself, so it
// needs no ownership rule of its own.
Status CheckSignature(int dir_fd, const std::string& file_name, const std::string& path,
                      const Sha256Digest& digest, const std::vector<std::string>& keys_pem) {
  const std::string sig_path = path + ".sig";
  Result<std::string> text =
      ReadSmallFile(dir_fd, file_name + ".sig", kMaxSignatureFileSize, sig_path, false);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    return PermissionDenied("missing signature file " + sig_path);
  }
  if (!text.ok()) return PermissionDenied(text.status().message());
  Result<std::string> signature = DecodeSignature(*text);
  if (!signature.ok()) return signature.status().WithContext(sig_path);
  bool verified = false;
  for (size_t i = 0; i < keys_pem.size() && !verified; ++i) {
    PkeyPtr key = ParsePublicKey(keys_pem[i]);
    verified = key && VerifiesWith(key.get(), *signature, digest);
  }
  ERR_clear_error();  // the keys that did not match left entries behind
  if (verified) return Status::Ok();
  return PermissionDenied(path + ": Ed25519 signature does not verify with any trusted key");
}

// For a miss, lists the allowed digests of the plugin the file name suggests ("libfoo.so" or
// "foo.so" -> "foo"), which is the expected-versus-actual an operator needs after an upgrade.
std::string ExpectedDigestsHint(const TrustPolicy& policy, std::string_view file_name) {
  std::string_view stem = file_name.substr(0, file_name.find(".so"));
  std::string_view bare = stem.starts_with("lib") ? stem.substr(3) : stem;
  std::string hint;
  for (const auto& [digest, name] : policy.allowed_digests) {
    if (name != stem && name != bare) continue;
    hint += hint.empty() ? " (allowed for \"" + name + "\": " : ", ";
    hint += digest;
  }
  return hint.empty() ? hint : hint + ")";
}

}  // namespace

std::string DescribeMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

Result<TrustPolicy> LoadTrustPolicy(const std::optional<fs::path>& allow_list_file,
                                    const std::vector<fs::path>& key_files) {
  TrustPolicy policy;
  if (allow_list_file) STAGEHOST_RETURN_IF_ERROR(LoadAllowList(*allow_list_file, policy));
  for (const fs::path& file : key_files) STAGEHOST_RETURN_IF_ERROR(LoadTrustedKey(file, policy));
  return policy;
}

Result<VerifiedPlugin> OpenAndVerifyPlugin(const fs::path& path, const TrustPolicy& policy,
                                           DigestMode digest_mode) {
  std::error_code ec;
  const fs::path abs_path = fs::absolute(path, ec);
  if (ec) return Internal("absolute path of " + path.string() + ": " + ec.message());
  const std::string display = abs_path.string();
  const std::string file_name = abs_path.filename();
  if (file_name.empty() || file_name == "." || file_name == "..") {
    return InvalidArgument(display + ": not a path to a plugin file");
  }
  // The file is opened relative to this directory fd, so the directory whose mode is checked is the
  // one the file was found in, whatever happens to the path later.
  const fs::path dir = abs_path.parent_path();
  UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return ErrnoStatus("open plugin directory " + dir.string(), errno);
  // O_NONBLOCK|O_NOCTTY: a FIFO or tty planted here must be refused, not block or attach. Neither
  // flag changes how a regular file reads.
  UniqueFd fd(::openat(dir_fd.get(), file_name.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid() && errno == ELOOP) {
    return PermissionDenied(display + " is a symbolic link; plugins load only from regular files");
  }
  if (!fd.valid()) return ErrnoStatus("open plugin " + display, errno);

  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + display, errno);
  if (!S_ISREG(st.st_mode)) {
    return PermissionDenied(display + ": not a regular file (" + FileTypeName(st.st_mode) + ")");
  }
  STAGEHOST_RETURN_IF_ERROR(CheckOwnerAndMode(st, display));
  if (::fstat(dir_fd.get(), &st) != 0) return ErrnoStatus("stat " + dir.string(), errno);
  STAGEHOST_RETURN_IF_ERROR(CheckOwnerAndMode(st, "directory " + dir.string()));

  VerifiedPlugin plugin;
  plugin.path = abs_path;
  bool policy_needs_digest = !policy.allowed_digests.empty() || !policy.trusted_keys_pem.empty();
  if (digest_mode == DigestMode::kWhenPolicyNeedsIt && !policy_needs_digest) {
    plugin.fd = std::move(fd);
    return plugin;
  }
  Result<Sha256Digest> digest = Sha256OfFd(fd.get());
  if (!digest.ok()) return digest.status().WithContext(display);
  plugin.sha256 = DigestToHex(*digest);
  if (!policy.allowed_digests.empty()) {
    auto it = policy.allowed_digests.find(plugin.sha256);
    if (it == policy.allowed_digests.end()) {
      return PermissionDenied(display + ": digest " + plugin.sha256 + " is not in the allow-list" +
                              ExpectedDigestsHint(policy, file_name));
    }
    plugin.allowed_name = it->second;
  }
  if (!policy.trusted_keys_pem.empty()) {
    STAGEHOST_RETURN_IF_ERROR(
        CheckSignature(dir_fd.get(), file_name, display, *digest, policy.trusted_keys_pem));
  }
  plugin.fd = std::move(fd);
  return plugin;
}

}  // namespace stagehost
