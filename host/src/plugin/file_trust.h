// Load-check steps 1-2 (plugin-abi.md §13): file policy and integrity, before any plugin code maps.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

namespace stagehost {

// What the operator trusts. Both parts are optional; with neither, only the file policy applies.
struct TrustPolicy {
  // Lowercase sha256 hex -> plugin name. Empty means no allow-list is configured.
  std::map<std::string, std::string> allowed_digests;
  // Ed25519 public keys (PEM). Non-empty means every plugin needs a detached signature.
  std::vector<std::string> trusted_keys_pem;
};

// Reads the allow-list (a JSON object: plugin name -> sha256 hex, or -> array of them for rolling
// upgrades) and the Ed25519 public key files. Errors name the file and the offending entry. A
// configured allow-list without any entry is an error: it would otherwise allow every plugin.
Result<TrustPolicy> LoadTrustPolicy(const std::optional<std::filesystem::path>& allow_list_file,
                                    const std::vector<std::filesystem::path>& key_files);

// A plugin file that passed every check, still open on the bytes that were hashed.
// Whether OpenAndVerifyPlugin hashes a file no policy asks about. Hashing is the most expensive
// check (plugins with debug info run to tens of MB) and every run verifies every plugin on the
// path, but only the one that runs needs its digest when no allow-list or key is configured.
enum class DigestMode { kAlways, kWhenPolicyNeedsIt };

struct VerifiedPlugin {
  // Hand this fd to the worker, which loads /proc/self/fd/N: the bytes hashed are the bytes loaded
  // even if the path is swapped afterwards.
  UniqueFd fd;
  std::filesystem::path path;  // absolute
  std::string sha256;          // lowercase hex; empty when deferred (DigestMode)
  // The allow-list's name for this digest; the loader must match it against the descriptor's name,
  // so a renamed .so cannot pose as another plugin.
  std::optional<std::string> allowed_name;
};

// Opens `path` without following a final symlink and checks, on that one fd: a regular file, owned
// by root or the effective uid, not writable by group or others, in a directory that satisfies the
// same ownership and mode rule; then hashes it (unless `digest_mode` defers that and no policy
// needs it), checks the allow-list and, when keys are
// configured, the Ed25519 signature in `<path>.sig` (64 raw bytes or their base64) over the 32
// digest bytes. Returns NotFound when the file is missing and PermissionDenied for refusals.
Result<VerifiedPlugin> OpenAndVerifyPlugin(const std::filesystem::path& path,
                                           const TrustPolicy& policy,
                                           DigestMode digest_mode = DigestMode::kAlways);

// Permission bits as four octal digits, e.g. "0644".
std::string DescribeMode(mode_t mode);

}  // namespace stagehost
