// crypto.cc -- OpenSSL EVP implementations of the deploy plugin's hashing, HMAC, base64 and
// Ed25519 helpers.
#include "crypto.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace stagehost::deploy {

std::string Hex(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Sha256Raw(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Sha256Hex(std::string_view data) { return Hex(Sha256Raw(data)); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len)) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Base64Encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

struct Sha256Stream::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256Stream::Sha256Stream() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (!state_->ctx || EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 init failed");
  }
}
Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(state_->ctx); }
void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(state_->ctx, data.data(), data.size());
}
std::string Sha256Stream::FinalHex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md, &len);
  return Hex(std::string_view(reinterpret_cast<char*>(md), len));
}

FileDigest HashFile(const std::string& path, std::uint64_t offset, std::uint64_t length,
                    const std::function<void()>& check_cancelled) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  Sha256Stream sha;
  std::vector<char> buffer(1 << 20);
  FileDigest digest;
  std::uint64_t pos = offset;
  while (digest.size < length) {
    if (check_cancelled) check_cancelled();
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - digest.size));
    ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      throw std::runtime_error("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    sha.Update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    digest.size += static_cast<std::uint64_t>(n);
    pos += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  digest.sha256 = sha.FinalHex();
  return digest;
}

namespace {
EVP_PKEY* Pkey(void* p) { return static_cast<EVP_PKEY*>(p); }
}  // namespace

Ed25519Key Ed25519Key::FromPem(std::string_view pem) {
  Ed25519Key key;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  if (pkey) {
    key.has_private_ = true;
  } else {
    BIO_free(bio);
    bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  if (!pkey) throw std::invalid_argument("not a PEM private or public key");
  key.pkey_ = pkey;
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    throw std::invalid_argument("the key is not an Ed25519 key");
  }
  return key;
}

Ed25519Key Ed25519Key::Generate() {
  Ed25519Key key;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
    EVP_PKEY_CTX_free(ctx);
    throw std::runtime_error("Ed25519 key generation failed");
  }
  EVP_PKEY_CTX_free(ctx);
  key.pkey_ = pkey;
  key.has_private_ = true;
  return key;
}

Ed25519Key::Ed25519Key(Ed25519Key&& other) noexcept
    : pkey_(other.pkey_), has_private_(other.has_private_) {
  other.pkey_ = nullptr;
}
Ed25519Key& Ed25519Key::operator=(Ed25519Key&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(Pkey(pkey_));
    pkey_ = other.pkey_;
    has_private_ = other.has_private_;
    other.pkey_ = nullptr;
  }
  return *this;
}
Ed25519Key::~Ed25519Key() { EVP_PKEY_free(Pkey(pkey_)); }

std::string Ed25519Key::Sign(std::string_view message) const {
  if (!has_private_) throw std::logic_error("signing needs the private key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  bool ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, Pkey(pkey_)) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("Ed25519 signing failed");
  sig.resize(len);
  return sig;
}

bool Ed25519Key::Verify(std::string_view message, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, Pkey(pkey_)) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string Ed25519Key::PublicRaw() const {
  std::string raw(32, '\0');
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(Pkey(pkey_), reinterpret_cast<unsigned char*>(raw.data()),
                                  &len) != 1) {
    throw std::runtime_error("cannot read the Ed25519 public key");
  }
  raw.resize(len);
  return raw;
}

namespace {
std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}
}  // namespace

std::string Ed25519Key::PublicPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, Pkey(pkey_));
  return BioText(bio);
}

std::string Ed25519Key::PrivatePem() const {
  if (!has_private_) throw std::logic_error("no private key");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, Pkey(pkey_), nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio);
}

}  // namespace stagehost::deploy
