// attest.cc -- provenance statement, DSSE signing and verification.
#include "attest.h"

#include <stagehost/stage.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace stagehost::deploy {

namespace {
std::string EnvOr(const EnvLookup& env, std::initializer_list<const char*> names,
                  std::string fallback = {}) {
  for (const char* n : names) {
    std::optional<std::string> v = env(n);
    if (v && !v->empty()) return *v;
  }
  return fallback;
}
}  // namespace

std::string Rfc3339Now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json MakeStatement(const ProvenanceInput& in) {
  using nlohmann::json;
  json subjects = json::array();
  for (const LocalArtifact& a : in.artifacts) {
    subjects.push_back({{"name", a.file}, {"digest", {{"sha256", a.digest.sha256}}}});
  }
  json dependencies = json::array();
  const std::string project = EnvOr(in.env, {"CI_PROJECT_URL", "GIT_URL"});
  const std::string commit = EnvOr(in.env, {"CI_COMMIT_SHA", "GIT_COMMIT"});
  if (!project.empty() || !commit.empty()) {
    json dep = {{"uri", "git+" + (project.empty() ? std::string("unknown") : project)}};
    const std::string ref = EnvOr(in.env, {"CI_COMMIT_REF_NAME", "GIT_BRANCH"});
    if (!ref.empty()) dep["uri"] = dep["uri"].get<std::string>() + "@" + ref;
    if (!commit.empty()) dep["digest"] = {{"gitCommit", commit}};
    dependencies.push_back(dep);
  }
  json external = {{"name", in.name}, {"version", in.version}, {"environment", in.environment}};
  const std::string pipeline = EnvOr(in.env, {"CI_PIPELINE_URL"});
  if (!pipeline.empty()) external["pipeline"] = pipeline;
  json metadata = {{"startedOn", in.started_on}, {"finishedOn", in.finished_on}};
  const std::string invocation = EnvOr(in.env, {"CI_JOB_ID", "BUILD_TAG"});
  if (!invocation.empty()) metadata["invocationId"] = invocation;
  return {
      {"_type", "https://in-toto.io/Statement/v1"},
      {"subject", subjects},
      {"predicateType", "https://slsa.dev/provenance/v1"},
      {"predicate",
       {{"buildDefinition",
         {{"buildType", in.build_type},
          {"externalParameters", external},
          {"internalParameters", {{"plugin", "stagehost deploy " + in.plugin_version}}},
          {"resolvedDependencies", dependencies}}},
        {"runDetails",
         {{"builder", {{"id", EnvOr(in.env, {"CI_JOB_URL", "BUILD_URL"}, "urn:stagehost:local")}}},
          {"metadata", metadata}}}}}};
}

std::string CanonicalJson(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, item] : value.items()) {  // nlohmann keeps object keys sorted
        if (!first) out += ",";
        first = false;
        out += CanonicalJson(key) + ":" + CanonicalJson(item);
      }
      return out + "}";
    }
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) out += (i ? "," : "") + CanonicalJson(value[i]);
      return out + "]";
    }
    case nlohmann::json::value_t::string: {
      std::string out = "\"";
      for (char c : value.get_ref<const std::string&>()) {
        if (c == '\\' || c == '"') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    case nlohmann::json::value_t::number_float:
      throw std::invalid_argument("canonical JSON has no floating-point numbers");
    default:  // integers, booleans, null: as JSON writes them
      return value.dump();
  }
}

nlohmann::json SslibPublicKey(const Ed25519Key& key) {
  return {{"keytype", "ed25519"},
          {"scheme", "ed25519"},
          {"keyid_hash_algorithms", {"sha256", "sha512"}},
          {"keyval", {{"public", Hex(key.PublicRaw())}}}};
}

std::string SslibKeyId(const Ed25519Key& key) {
  return Sha256Hex(CanonicalJson(SslibPublicKey(key)));
}

SignedLink MakeSignedLink(const std::string& step_name, const std::vector<LocalArtifact>& artifacts,
                          const Ed25519Key& key) {
  nlohmann::json products = nlohmann::json::object();
  for (const LocalArtifact& a : artifacts) products[a.rel_path] = {{"sha256", a.digest.sha256}};
  nlohmann::json signed_part = {{"_type", "link"},
                                {"name", step_name},
                                {"materials", nlohmann::json::object()},
                                {"products", products},
                                {"byproducts", nlohmann::json::object()},
                                {"command", nlohmann::json::array()},
                                {"environment", nlohmann::json::object()}};
  const std::string keyid = SslibKeyId(key);
  nlohmann::json link = {
      {"signatures", {{{"keyid", keyid}, {"sig", Hex(key.Sign(CanonicalJson(signed_part)))}}}},
      {"signed", signed_part}};
  return {step_name + "." + keyid.substr(0, 8) + ".link", link.dump(1) + "\n"};
}

std::string Pae(std::string_view type, std::string_view payload) {
  return "DSSEv1 " + std::to_string(type.size()) + " " + std::string(type) + " " +
         std::to_string(payload.size()) + " " + std::string(payload);
}

std::string SignEnvelope(const std::string& statement_json, const Ed25519Key& key) {
  const std::string sig = key.Sign(Pae(kPayloadType, statement_json));
  nlohmann::json envelope = {
      {"payloadType", kPayloadType},
      {"payload", Base64Encode(statement_json)},
      {"signatures",
       nlohmann::json::array({{{"keyid", key.KeyId()}, {"sig", Base64Encode(sig)}}})}};
  return envelope.dump();
}

std::string VerifyResult::Describe() const {
  if (!signature_ok) return "signature: " + signature_detail;
  std::string out;
  for (const SubjectCheck& s : subjects) {
    if (s.ok) continue;
    out += (out.empty() ? "" : "; ") + s.file + ": " +
           (s.expected.empty() ? "not a subject of the provenance"
                               : "sha256 " + s.actual + " but the provenance says " + s.expected);
  }
  return out.empty()
             ? "signature and " + std::to_string(subjects.size()) + " subject digest(s) verified"
             : out;
}

VerifyResult VerifyEnvelope(const std::string& envelope_json, const Ed25519Key& key,
                            const std::vector<LocalArtifact>& artifacts) {
  VerifyResult result;
  nlohmann::json statement;
  try {
    const nlohmann::json envelope = nlohmann::json::parse(envelope_json);
    const std::string type = envelope.at("payloadType").get<std::string>();
    std::optional<std::string> payload = Base64Decode(envelope.at("payload").get<std::string>());
    if (!payload) {
      result.signature_detail = "payload is not base64";
      return result;
    }
    const std::string pae = Pae(type, *payload);
    for (const auto& s : envelope.at("signatures")) {
      std::optional<std::string> sig = Base64Decode(s.at("sig").get<std::string>());
      if (sig && key.Verify(pae, *sig)) result.signature_ok = true;
    }
    if (!result.signature_ok) {
      result.signature_detail = "no signature verifies with the key " + key.KeyId().substr(0, 16);
      return result;
    }
    if (type != kPayloadType) {
      result.signature_ok = false;
      result.signature_detail = "payloadType is " + type + ", not " + kPayloadType;
      return result;
    }
    statement = nlohmann::json::parse(*payload);
    if (statement.value("_type", "") != "https://in-toto.io/Statement/v1") {
      result.signature_ok = false;
      result.signature_detail = "payload is not an in-toto Statement v1";
      return result;
    }
  } catch (const nlohmann::json::exception& e) {
    result.signature_ok = false;
    result.signature_detail = std::string("malformed envelope: ") + e.what();
    return result;
  }
  result.signature_detail = "ok";
  for (const LocalArtifact& a : artifacts) {
    SubjectCheck c;
    c.file = a.file;
    c.actual = a.digest.sha256;
    for (const auto& s : statement.value("subject", nlohmann::json::array())) {
      if (s.value("name", "") == a.file && s.contains("digest")) {
        c.expected = s.at("digest").value("sha256", "");
      }
    }
    c.ok = !c.expected.empty() && c.expected == c.actual;
    result.subjects.push_back(c);
  }
  return result;
}

std::string PemFromVariable(const EnvLookup& env, const std::string& variable,
                            const std::string& workspace) {
  std::optional<std::string> value = env(variable);
  if (!value || value->empty()) {
    throw sdk::BadConfig("the variable " + variable +
                         " is not set (it must hold a PEM key or its path)");
  }
  if (value->find("-----BEGIN") != std::string::npos) return *value;
  std::filesystem::path p(*value);
  if (p.is_relative()) p = std::filesystem::path(workspace) / p;
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    // The value is a path here, not key material, so naming it is safe.
    throw sdk::BadConfig("the variable " + variable + " names " + p.string() +
                         ", which cannot be read");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace stagehost::deploy
