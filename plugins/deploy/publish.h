// publish.h -- artifact stores (S3-compatible, HTTP PUT repository, local/NFS directory) and the
// release protocol over them: content-addressed blobs, then a version manifest that is written
// once and never replaced by different content.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.h"
#include "crypto.h"

namespace stagehost::deploy {

// Looks a job variable up by name (secrets are read only through this).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct Hooks {
  std::function<void(const std::string&)> info = [](const std::string&) {};
  std::function<void(const std::string&)> warn = [](const std::string&) {};
  std::function<void()> check_cancelled = [] {};  // throws to stop
};

// The version exists in the store with other content: releasing it again is refused.
class ReleaseConflict : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // The SHA-256 of the object at `key`, or nullopt when there is none.
  virtual std::optional<std::string> ExistingDigest(const std::string& key) = 0;
  // Uploads the file and checks what the store holds afterwards (read-back or metadata); throws
  // sdk::InfraError when the transfer or the check fails.
  virtual void PutFile(const std::string& key, const std::string& path,
                       const FileDigest& digest) = 0;
  virtual std::optional<std::string> GetSmall(const std::string& key) = 0;
  virtual void PutSmall(const std::string& key, const std::string& contents,
                        const std::string& media_type) = 0;
  // Where the object can be fetched (no credentials in it).
  virtual std::string Url(const std::string& key) const = 0;
  virtual std::string Describe() const = 0;
};

// Throws sdk::BadConfig when a credential variable is missing.
std::unique_ptr<ArtifactStore> MakeStore(const PublishConfig& config, const std::string& workspace,
                                         const EnvLookup& env, const Hooks& hooks);

struct LocalArtifact {
  std::string rel_path;  // as configured
  std::string path;      // absolute
  std::string file;      // base name
  FileDigest digest;
};

struct PublishedObject {
  std::string file, key, url, sha256;
  std::uint64_t size = 0;
  bool uploaded = false;  // false: the same content was already there
};

struct PublishResult {
  std::vector<PublishedObject> objects;
  std::string manifest_key, manifest_url;
  bool already_released = false;  // the same version with the same digests existed
};

// Keys: <prefix>/<name>/sha256/<hex>/<file> and <prefix>/<name>/versions/<version>.json.
std::string BlobKey(const PublishConfig& config, const std::string& name, const LocalArtifact& a);
std::string ManifestKey(const PublishConfig& config, const std::string& name,
                        const std::string& version);

// Publishes the artifacts as `version`. `extra` files (key suffix -> contents, e.g. the DSSE
// envelope) are written beside the manifest when the release is new. Throws ReleaseConflict when
// the version already exists with other digests (nothing is uploaded then).
PublishResult Publish(ArtifactStore& store, const PublishConfig& config, const std::string& name,
                      const std::string& version, const std::vector<LocalArtifact>& artifacts,
                      const std::vector<std::pair<std::string, std::string>>& extra,
                      const Hooks& hooks);

}  // namespace stagehost::deploy
