// model_check.cc -- model artifact checks: present, within its size budget, SHA-256 recorded.
#include <openssl/evp.h>
#include <stagehost/stage.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "result.h"

namespace stagehost::model_validation {
namespace {

std::string Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw sdk::BadConfig("model.path: cannot read " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 unavailable");
  }
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string hex;
  char b[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  return hex;
}

}  // namespace

void CheckModel(const ModelConfig& m, const std::string& workspace, ValidationResult& r) {
  namespace fs = std::filesystem;
  const std::string path = ResolvePath(workspace, m.path);
  std::error_code ec;
  const bool present = fs::is_regular_file(path, ec);
  r.model = {{"path", m.path}, {"present", present}};
  Check exists;
  exists.kind = "model";
  exists.subject = m.path;
  exists.name = "model file " + m.path + " present";
  if (!present) {
    exists.status = m.required ? Check::Status::kFailed : Check::Status::kSkipped;
    exists.message =
        m.path + " is not a regular file" + (m.required ? "" : " (model.required is false)");
    r.checks.push_back(exists);
    if (m.max_bytes) {
      Check size = exists;
      size.name = "model file " + m.path + " size <= " + std::to_string(*m.max_bytes) + " bytes";
      size.status = Check::Status::kSkipped;
      size.message = "no model file";
      r.checks.push_back(size);
    }
    return;
  }
  const std::uintmax_t bytes = fs::file_size(path, ec);
  r.model["bytes"] = bytes;
  r.model["sha256"] = Sha256File(path);
  exists.message = m.path + ": " + std::to_string(bytes) + " bytes, sha256 " +
                   r.model["sha256"].get<std::string>();
  r.checks.push_back(exists);
  if (m.max_bytes) {
    Check size;
    size.kind = "model";
    size.subject = m.path;
    size.name = "model file " + m.path + " size <= " + std::to_string(*m.max_bytes) + " bytes";
    size.value = static_cast<double>(bytes);
    size.limit = static_cast<double>(*m.max_bytes);
    if (bytes <= *m.max_bytes) {
      size.message = std::to_string(bytes) + " bytes <= budget " + std::to_string(*m.max_bytes);
    } else {
      size.status = Check::Status::kFailed;
      size.message = std::to_string(bytes) + " bytes exceeds the budget " +
                     std::to_string(*m.max_bytes) + " by " + std::to_string(bytes - *m.max_bytes);
    }
    r.checks.push_back(size);
    r.model["max_bytes"] = *m.max_bytes;
  }
}

}  // namespace stagehost::model_validation
