// attest.h -- in-toto Statement v1 with a SLSA provenance v1 predicate, signed into a DSSE
// envelope with Ed25519, and the verification that runs before any rollout.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto.h"
#include "publish.h"

namespace stagehost::deploy {

inline constexpr const char* kPayloadType = "application/vnd.in-toto+json";

struct ProvenanceInput {
  std::string name, version, environment, build_type, plugin_version;
  std::string started_on, finished_on;  // RFC 3339 UTC
  std::vector<LocalArtifact> artifacts;
  EnvLookup env;  // CI_JOB_URL / BUILD_URL, CI_PROJECT_URL, CI_COMMIT_SHA, ...
};

nlohmann::json MakeStatement(const ProvenanceInput& input);

// DSSE pre-authentication encoding: "DSSEv1 <len(type)> <type> <len(body)> <body>".
std::string Pae(std::string_view payload_type, std::string_view payload);

// The envelope as compact JSON (one line: the .intoto.jsonl format).
std::string SignEnvelope(const std::string& statement_json, const Ed25519Key& key);

struct SubjectCheck {
  std::string file, expected, actual;
  bool ok = false;
};

struct VerifyResult {
  bool signature_ok = false;
  std::string signature_detail;
  std::vector<SubjectCheck> subjects;
  bool ok() const {
    if (!signature_ok) return false;
    for (const SubjectCheck& s : subjects) {
      if (!s.ok) return false;
    }
    return true;
  }
  std::string Describe() const;
};

// Checks that some signature of the envelope verifies under `key`, that it carries an in-toto
// Statement, and that every artifact is a subject whose sha256 equals the file's. Never throws for
// a bad envelope: that is a verification failure.
VerifyResult VerifyEnvelope(const std::string& envelope_json, const Ed25519Key& key,
                            const std::vector<LocalArtifact>& artifacts);

// in-toto link metadata (the v0.9 format Debian's in-toto-verify checks against a layout): step
// `step_name` with the artifacts as its products (path as configured, sha256), signed with `key`
// over its canonical JSON. `file` is "<step>.<first 8 of the keyid>.link", the name
// in-toto-verify looks for.
struct SignedLink {
  std::string file;
  std::string json;
};
SignedLink MakeSignedLink(const std::string& step_name, const std::vector<LocalArtifact>& artifacts,
                          const Ed25519Key& key);

// The public key in securesystemslib's JSON key format, as a layout names its functionaries, and
// its keyid (sha256 of the key's canonical JSON).
nlohmann::json SslibPublicKey(const Ed25519Key& key);
std::string SslibKeyId(const Ed25519Key& key);

// securesystemslib's canonical JSON: sorted keys, no spaces, strings with only `\` and `"`
// escaped, integers only (floats are refused with std::invalid_argument).
std::string CanonicalJson(const nlohmann::json& value);

// A variable's value as PEM: the value itself when it is PEM text, else the file it names
// (relative paths from `workspace`). Throws sdk::BadConfig without echoing the value.
std::string PemFromVariable(const EnvLookup& env, const std::string& variable,
                            const std::string& workspace);

std::string Rfc3339Now();

}  // namespace stagehost::deploy
