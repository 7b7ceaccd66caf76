// SHA-256 (OpenSSL EVP) of byte strings and of whole files, as lowercase hex or raw digest bytes.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/status.h"

namespace stagehost {

inline constexpr size_t kSha256Size = 32;
using Sha256Digest = std::array<uint8_t, kSha256Size>;

// Digest of `bytes`, as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// Digest of the whole file behind `fd`, read with pread from offset 0 in 64 KiB chunks. The file
// offset of `fd` is left alone, so the caller may hash and then hand the same fd on.
Result<Sha256Digest> Sha256OfFd(int fd);
Result<std::string> Sha256HexOfFd(int fd);

// Opens `path` (following symlinks) and hashes it; errors name the path.
Result<std::string> Sha256HexOfFile(const std::filesystem::path& path);

// 64 lowercase hex digits.
std::string DigestToHex(const Sha256Digest& digest);
// Parses exactly 64 hex digits, either case; InvalidArgument otherwise.
Result<Sha256Digest> HexToDigest(std::string_view hex);

}  // namespace stagehost
