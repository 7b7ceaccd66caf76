// crypto.h -- OpenSSL helpers of the deploy plugin: SHA-256 (streamed over files), HMAC-SHA256,
// base64, and Ed25519 keys for signing and verifying attestations.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace stagehost::deploy {

std::string Hex(std::string_view raw);
std::string Sha256Raw(std::string_view data);
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Base64Encode(std::string_view raw);
// Standard alphabet, padding optional; nullopt on any other character.
std::optional<std::string> Base64Decode(std::string_view text);

// Incremental SHA-256, for hashing while streaming an upload or a download.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  std::string FinalHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct FileDigest {
  std::string sha256;  // lowercase hex
  std::uint64_t size = 0;
};

// Hashes `length` bytes of the file from `offset` (all of it by default) with a fixed 1 MiB
// buffer, so a file of any size costs the same memory. Throws std::runtime_error naming the file.
// `cancelled` is polled between buffers; when it returns true, Cancelled-like abort via throw of
// whatever the caller's function throws.
FileDigest HashFile(const std::string& path, std::uint64_t offset = 0,
                    std::uint64_t length = UINT64_MAX,
                    const std::function<void()>& check_cancelled = {});

// An Ed25519 key pair (or public key only) loaded from PEM.
class Ed25519Key {
 public:
  // PEM text of a private key ("PRIVATE KEY") or a public key ("PUBLIC KEY"). Throws
  // std::invalid_argument without echoing the PEM (it may be a secret).
  static Ed25519Key FromPem(std::string_view pem);
  // A fresh key pair (tests, examples).
  static Ed25519Key Generate();

  Ed25519Key(Ed25519Key&&) noexcept;
  Ed25519Key& operator=(Ed25519Key&&) noexcept;
  ~Ed25519Key();

  bool has_private() const { return has_private_; }
  // 64-byte raw signature; requires the private key.
  std::string Sign(std::string_view message) const;
  bool Verify(std::string_view message, std::string_view signature) const;
  // Raw 32-byte public key.
  std::string PublicRaw() const;
  std::string PublicPem() const;
  std::string PrivatePem() const;
  // Identifies the key in envelopes: hex SHA-256 of the raw public key.
  std::string KeyId() const { return Sha256Hex(PublicRaw()); }

 private:
  Ed25519Key() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*, kept opaque so callers need no OpenSSL headers
  bool has_private_ = false;
};

}  // namespace stagehost::deploy
