// deploy.cc -- the stage from start to end: safety checks, publish + attest, verify, roll out,
// reports (see deploy.h).
#include "deploy.h"

#include <stagehost/stage.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "attest.h"
#include "drivers.h"
#include "rollout.h"
#include "template.h"

namespace stagehost::deploy {

namespace fs = std::filesystem;

namespace {

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw sdk::BadConfig("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::vector<LocalArtifact> HashArtifacts(const Config& config, const RunEnv& env) {
  std::vector<LocalArtifact> out;
  for (size_t i = 0; i < config.artifacts.size(); ++i) {
    LocalArtifact a;
    a.rel_path = config.artifacts[i];
    fs::path p(a.rel_path);
    if (p.is_relative()) p = fs::path(env.workspace) / p;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw sdk::BadConfig("artifacts[" + std::to_string(i) + "] \"" + a.rel_path +
                           "\": no such regular file (" + p.string() + ")");
    }
    a.path = p.string();
    a.file = p.filename().string();
    for (const LocalArtifact& other : out) {
      if (other.file == a.file) {
        throw sdk::BadConfig("artifacts: two files are named " + a.file +
                             " (subjects are named by file name)");
      }
    }
    a.digest = HashFile(a.path, 0, UINT64_MAX, env.hooks.check_cancelled);
    out.push_back(a);
  }
  return out;
}

std::string ResolveVersion(const Config& config, const RunEnv& env,
                           const std::vector<LocalArtifact>& artifacts) {
  if (!config.version.empty()) return config.version;
  for (const char* name : {"CI_COMMIT_TAG", "CI_COMMIT_SHORT_SHA"}) {
    std::optional<std::string> v = env.env(name);
    if (v && !v->empty()) return *v;
  }
  return "sha256-" + artifacts.front().digest.sha256.substr(0, 12);
}

Ed25519Key LoadKey(const EnvLookup& env, const std::string& variable,
                   const std::string& workspace) {
  try {
    return Ed25519Key::FromPem(PemFromVariable(env, variable, workspace));
  } catch (const std::invalid_argument& e) {
    throw sdk::BadConfig("the variable " + variable +
                         " does not hold a usable Ed25519 key: " + e.what());
  }
}

}  // namespace

DeployReport RunDeploy(const Config& config, const RunEnv& env) {
  DeployReport report;
  const Hooks& hooks = env.hooks;
  const fs::path out_dir(env.artifact_dir);
  std::vector<LocalArtifact> artifacts = HashArtifacts(config, env);
  report.version = ResolveVersion(config, env, artifacts);
  const std::string modes[] = {"deploy", "publish", "verify", "rollout"};
  const std::string mode = modes[static_cast<int>(config.mode)];
  hooks.info("deploy: " + mode + " " + config.name + " " + report.version + " to " +
             config.environment);
  for (const LocalArtifact& a : artifacts) {
    hooks.info("deploy:   " + a.file + " sha256:" + a.digest.sha256 + " (" +
               std::to_string(a.digest.size) + " bytes)");
  }

  nlohmann::json record = {{"name", config.name},
                           {"version", report.version},
                           {"environment", config.environment},
                           {"mode", mode},
                           {"started_at", Rfc3339Now()}};
  nlohmann::json digests = nlohmann::json::array();
  for (const LocalArtifact& a : artifacts) {
    digests.push_back({{"file", a.file},
                       {"path", a.rel_path},
                       {"sha256", a.digest.sha256},
                       {"size", a.digest.size}});
  }
  record["artifacts"] = digests;
  TemplateVars vars{{"version", report.version},
                    {"environment", config.environment},
                    {"digest", artifacts.front().digest.sha256},
                    {"artifact_url", ""}};
  report.url = ExpandTemplate(config.url,
                              {{"version", report.version}, {"environment", config.environment}});

  auto finish = [&](Verdict verdict, const std::string& message) {
    report.verdict = verdict;
    report.message = message;
    record["outcome"] = verdict == Verdict::kPassed   ? "succeeded"
                        : verdict == Verdict::kFailed ? "failed"
                                                      : "rollback-failed";
    record["message"] = message;
    record["finished_at"] = Rfc3339Now();
    record["gates"] = nlohmann::json::array();
    for (const Gate& g : report.gates) {
      record["gates"].push_back({{"suite", g.suite},
                                 {"name", g.name},
                                 {"status", g.status == Gate::Status::kPassed   ? "passed"
                                            : g.status == Gate::Status::kFailed ? "failed"
                                                                                : "skipped"},
                                 {"message", g.message}});
    }
    report.record = record;
    WriteText(out_dir / kRecordFile, record.dump(2) + "\n");
    report.files.push_back({kRecordFile, "deployment record", "application/json"});
    WriteText(out_dir / kJUnitFile, JUnitXml(report.gates));
    report.files.push_back({kJUnitFile, "deploy gates (JUnit)", "application/xml"});
    std::vector<std::pair<std::string, std::string>> dotenv{
        {"DEPLOY_NAME", config.name},
        {"DEPLOY_VERSION", report.version},
        {"DEPLOY_ENVIRONMENT", config.environment},
        {"DEPLOY_OUTCOME", record["outcome"].get<std::string>()},
        {"DEPLOY_DIGEST", artifacts.front().digest.sha256}};
    if (record.contains("previous_version"))
      dotenv.emplace_back("DEPLOY_PREVIOUS_VERSION", record["previous_version"].get<std::string>());
    if (record.contains("live_version"))
      dotenv.emplace_back("DEPLOY_LIVE_VERSION", record["live_version"].get<std::string>());
    if (record.contains("manifest_url"))
      dotenv.emplace_back("DEPLOY_MANIFEST_URL", record["manifest_url"].get<std::string>());
    if (!report.url.empty()) dotenv.emplace_back("DYNAMIC_ENVIRONMENT_URL", report.url);
    WriteText(out_dir / kDotenvFile, Dotenv(dotenv));
    report.files.push_back({kDotenvFile, "deploy dotenv (GitLab environments)", "text/plain"});
    return report;
  };

  // Safety: production-bound modes only from protected refs.
  if (config.mode != Mode::kVerify) {
    std::optional<std::string> prot = env.env("CI_COMMIT_REF_PROTECTED");
    const bool is_protected = prot && *prot == "true";
    if (config.require_protected_ref && !is_protected) {
      const std::string ref = env.env("CI_COMMIT_REF_NAME").value_or("(unknown ref)");
      const std::string msg =
          "refused: " + ref +
          " is not a protected ref (CI_COMMIT_REF_PROTECTED=" + prot.value_or("unset") +
          "); set require_protected_ref: false to deploy from it";
      report.gates.push_back({"safety", "protected ref", Gate::Status::kFailed, msg});
      hooks.warn("deploy: " + msg);
      return finish(Verdict::kFailed, msg);
    }
    report.gates.push_back(
        {"safety", "protected ref", is_protected ? Gate::Status::kPassed : Gate::Status::kSkipped,
         is_protected ? "ref is protected" : "not required (require_protected_ref: false)"});
  }

  // Publish and attest.
  std::string envelope;
  std::string public_key_pem;
  if (config.mode == Mode::kDeploy || config.mode == Mode::kPublish) {
    const Ed25519Key key = LoadKey(env.env, config.signing_key_variable, env.workspace);
    if (!key.has_private())
      throw sdk::BadConfig("signing.key_variable: " + config.signing_key_variable +
                           " holds a public key; signing needs the private key");
    ProvenanceInput pin{
        config.name,       report.version,     config.environment,
        config.build_type, env.plugin_version, record["started_at"].get<std::string>(),
        Rfc3339Now(),      artifacts,          env.env};
    const std::string statement = MakeStatement(pin).dump(2) + "\n";
    envelope = SignEnvelope(statement, key);
    public_key_pem = key.PublicPem();
    WriteText(out_dir / kStatementFile, statement);
    WriteText(out_dir / kSignatureFile, Base64Encode(key.Sign(statement)) + "\n");
    WriteText(out_dir / kEnvelopeFile, envelope + "\n");
    WriteText(out_dir / kPublicKeyFile, public_key_pem);
    const SignedLink link = MakeSignedLink(kLinkStep, artifacts, key);
    WriteText(out_dir / link.file, link.json);
    WriteText(out_dir / kSslibKeyFile, SslibPublicKey(key).dump(1) + "\n");
    report.files.push_back({kStatementFile, "provenance (in-toto Statement v1, SLSA provenance v1)",
                            "application/vnd.in-toto+json"});
    report.files.push_back(
        {kSignatureFile, "provenance detached Ed25519 signature (base64)", "text/plain"});
    report.files.push_back(
        {kEnvelopeFile, "provenance DSSE envelope", "application/vnd.in-toto+json"});
    report.files.push_back({kPublicKeyFile, "provenance public key", "application/x-pem-file"});
    report.files.push_back(
        {link.file, "in-toto link of the publish step (in-toto-verify)", "application/json"});
    report.files.push_back(
        {kSslibKeyFile, "provenance public key, securesystemslib JSON", "application/json"});
    hooks.info("deploy: provenance signed with Ed25519 key " + key.KeyId().substr(0, 16));

    std::unique_ptr<ArtifactStore> store = MakeStore(config.publish, env.workspace, env.env, hooks);
    hooks.info("deploy: publishing to " + store->Describe());
    PublishResult published;
    try {
      published = Publish(*store, config.publish, config.name, report.version, artifacts,
                          {{".intoto.jsonl", envelope + "\n"}}, hooks);
    } catch (const ReleaseConflict& e) {
      report.gates.push_back(
          {"publish", "release " + report.version, Gate::Status::kFailed, e.what()});
      hooks.warn(std::string("deploy: ") + e.what());
      return finish(Verdict::kFailed, e.what());
    }
    nlohmann::json objects = nlohmann::json::array();
    for (const PublishedObject& o : published.objects) {
      objects.push_back(
          {{"file", o.file}, {"url", o.url}, {"sha256", o.sha256}, {"uploaded", o.uploaded}});
      report.gates.push_back({"publish", o.file, Gate::Status::kPassed,
                              (o.uploaded ? "uploaded to " : "already stored at ") + o.url});
    }
    record["store"] = store->Describe();
    record["published"] = objects;
    record["manifest_url"] = published.manifest_url;
    record["already_released"] = published.already_released;
    vars["artifact_url"] = published.objects.front().url;
    env.hooks.check_cancelled();
  }

  // Verify before any rollout: the signature, and the files as they are now against the subjects.
  // Publish mode checks its own envelope too: a key mix-up shows here, not at rollout time.
  {
    if (envelope.empty()) {
      fs::path p(config.verify_provenance);
      if (p.is_relative()) p = fs::path(env.workspace) / p;
      envelope = ReadText(p);
    }
    const std::string& key_var = config.verify_public_key_variable.empty()
                                     ? config.signing_key_variable
                                     : config.verify_public_key_variable;
    const Ed25519Key key = LoadKey(env.env, key_var, env.workspace);
    // Re-hash: a file changed since it was hashed (or signed) must not be rolled out.
    const std::vector<LocalArtifact> now = HashArtifacts(config, env);
    const VerifyResult v = VerifyEnvelope(envelope, key, now);
    report.gates.push_back(
        {"verify", "signature", v.signature_ok ? Gate::Status::kPassed : Gate::Status::kFailed,
         v.signature_ok ? "DSSE signature verified (key " + key.KeyId().substr(0, 16) + ")"
                        : v.signature_detail});
    for (const SubjectCheck& s : v.subjects) {
      report.gates.push_back(
          {"verify", "subject " + s.file, s.ok ? Gate::Status::kPassed : Gate::Status::kFailed,
           s.ok ? "sha256 " + s.actual
                : (s.expected.empty()
                       ? "not a subject of the provenance"
                       : "file sha256 " + s.actual + " but provenance says " + s.expected)});
    }
    record["verification"] = {{"ok", v.ok()}, {"detail", v.Describe()}};
    if (!v.ok()) {
      const std::string msg = "verification failed: " + v.Describe();
      hooks.warn("deploy: " + msg);
      return finish(Verdict::kFailed, msg);
    }
    hooks.info("deploy: verified: " + v.Describe());
  }

  if (config.mode == Mode::kDeploy || config.mode == Mode::kRollout) {
    DriverEnv denv{env.env_entries, config.rollout.command_timeout_ms, hooks.info,
                   [&] {
                     try {
                       hooks.check_cancelled();
                       return false;
                     } catch (...) {
                       return true;
                     }
                   },
                   env.sleep};
    std::unique_ptr<Driver> driver = MakeDriver(config.rollout, denv);
    fs::path state_path(config.state_file.empty()
                            ? ".stagehost/deploy-" + config.environment + ".json"
                            : config.state_file);
    if (state_path.is_relative()) state_path = fs::path(env.workspace) / state_path;
    StateFile state_file(state_path.string());
    RolloutEnv renv{hooks.info, hooks.warn, env.sleep, vars};
    const RolloutResult r = RunRollout(config, report.version, *driver, state_file, renv);
    const char* strategies[] = {"direct", "blue-green", "canary"};
    record["driver"] = driver->name();
    record["strategy"] = strategies[static_cast<int>(config.rollout.strategy)];
    record["state_file"] = state_path.string();
    record["previous_version"] = r.previous_version;
    record["recovered_unfinished"] = r.recovered_unfinished;
    nlohmann::json steps = nlohmann::json::array();
    for (const StepRecord& s : r.steps) {
      nlohmann::json checks = nlohmann::json::array();
      for (const CheckSummary& c : s.analysis.checks) {
        checks.push_back({{"name", c.name},
                          {"kind", c.kind},
                          {"successes", c.successes},
                          {"failures", c.failures},
                          {"inconclusive", c.inconclusive},
                          {"breached", c.breached},
                          {"last", c.last_detail}});
        Gate::Status st = c.breached ? Gate::Status::kFailed : Gate::Status::kPassed;
        report.gates.push_back(
            {"rollout", s.name + ": " + c.name, st, c.breached ? c.reason : c.last_detail});
      }
      steps.push_back({{"name", s.name},
                       {"weight", s.weight},
                       {"started_at", s.started_at},
                       {"finished_at", s.finished_at},
                       {"result", s.result},
                       {"checks", checks}});
    }
    record["steps"] = steps;
    switch (r.outcome) {
      case RolloutOutcome::kRefused:
        report.gates.push_back(
            {"safety", "no unfinished rollout", Gate::Status::kFailed, r.reason});
        hooks.warn("deploy: " + r.reason);
        return finish(Verdict::kFailed, r.reason);
      case RolloutOutcome::kRolledBack:
        record["live_version"] = r.previous_version;
        report.gates.push_back(
            {"rollout", "promotion", Gate::Status::kFailed, "rolled back: " + r.reason});
        return finish(Verdict::kFailed,
                      "rolled back to " +
                          (r.previous_version.empty() ? std::string("the previous state")
                                                      : r.previous_version) +
                          ": " + r.reason);
      case RolloutOutcome::kRollbackFailed:
        report.gates.push_back({"rollout", "promotion", Gate::Status::kFailed, r.reason});
        return finish(Verdict::kRollbackFailed,
                      "FAILED TO ROLL BACK: " + r.reason + "; " + config.environment +
                          " needs manual attention (state file " + state_path.string() + ")");
      case RolloutOutcome::kPromoted:
        record["live_version"] = report.version;
        report.gates.push_back(
            {"rollout", "promotion", Gate::Status::kPassed, report.version + " promoted"});
        break;
    }
  }
  return finish(Verdict::kPassed, config.mode == Mode::kVerify ? "verified " + report.version
                                  : config.mode == Mode::kPublish
                                      ? "published " + report.version
                                      : report.version + " deployed to " + config.environment);
}

}  // namespace stagehost::deploy
