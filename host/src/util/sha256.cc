// SHA-256 through OpenSSL 3's EVP interface.
#include "util/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <vector>

#include "util/unique_fd.h"

namespace stagehost {
namespace {

constexpr size_t kChunkSize = 64 * 1024;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status NotADigest() { return InvalidArgument("not a sha256 digest (64 hex digits)"); }

}  // namespace

std::string DigestToHex(const Sha256Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest.size());
  for (uint8_t byte : digest) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xf]);
  }
  return hex;
}

Result<Sha256Digest> HexToDigest(std::string_view hex) {
  Sha256Digest digest;
  if (hex.size() != 2 * digest.size()) return NotADigest();
  for (size_t i = 0; i < digest.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return NotADigest();
    digest[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return digest;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256Digest digest;
  // With a built-in algorithm only an allocation failure can make this fail; a wrong digest
  // must never be returned, and the host does not survive running out of memory anyway.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), nullptr, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  return DigestToHex(digest);
}

Result<Sha256Digest> Sha256OfFd(int fd) {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Internal("EVP_DigestInit_ex(sha256) failed");
  }
  std::vector<unsigned char> buffer(kChunkSize);
  off_t offset = 0;
  while (true) {
    ssize_t n = ::pread(fd, buffer.data(), buffer.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", errno);
    if (n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(n)) != 1) {
      return Internal("EVP_DigestUpdate failed");
    }
    offset += n;
  }
  Sha256Digest digest;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), nullptr) != 1) {
    return Internal("EVP_DigestFinal_ex failed");
  }
  return digest;
}

Result<std::string> Sha256HexOfFd(int fd) {
  STAGEHOST_ASSIGN_OR_RETURN(Sha256Digest digest, Sha256OfFd(fd));
  return DigestToHex(digest);
}

Result<std::string> Sha256HexOfFile(const std::filesystem::path& path) {
  // O_NONBLOCK: a FIFO at `path` must fail the read rather than hang the open.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return ErrnoStatus("open " + path.string(), errno);
  Result<std::string> hex = Sha256HexOfFd(fd.get());
  if (!hex.ok()) return hex.status().WithContext(path.string());
  return hex;
}

}  // namespace stagehost
