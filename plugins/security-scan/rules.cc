// rules.cc -- stagehost's built-in secret rules. Every regex is plain RE2 syntax that Hyperscan
// also accepts (no look-around, no back-references); the keyword list mirrors the literal part
// of the regex so gitleaks-style keyword semantics hold.
#include "rules.h"

namespace stagehost::security_scan {
namespace {

Rule Make(std::string id, std::string description, std::string regex,
          std::vector<std::string> keywords, Severity severity, double entropy = 0) {
  Rule r;
  r.id = std::move(id);
  r.description = std::move(description);
  r.regex = std::move(regex);
  r.keywords = std::move(keywords);
  r.severity = severity;
  r.entropy = entropy;
  return r;
}

Allowlist Stopwords(std::vector<std::string> words) {
  Allowlist a;
  a.description = "placeholders";
  a.stopwords = std::move(words);
  return a;
}

}  // namespace

RuleSet BuiltinRules() {
  RuleSet set;
  set.source = "built-in";
  auto& r = set.rules;
  const Severity kCrit = Severity::kCritical, kHigh = Severity::kHigh, kMed = Severity::kMedium;

  // Cloud providers.
  r.push_back(Make("aws-access-key-id", "AWS access key ID",
                   R"(\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b)",
                   {"a3t", "akia", "asia", "abia", "acca"}, kCrit, 3.0));
  {
    // AWS documents AKIAIOSFODNN7EXAMPLE; every "...EXAMPLE" key is documentation.
    Allowlist a;
    a.description = "AWS documentation keys";
    a.regexes = {".+EXAMPLE$"};
    r.back().allowlists.push_back(a);
  }
  r.push_back(Make(
      "aws-secret-access-key", "AWS secret access key",
      R"((?i)aws.{0,20}(?:secret|private)?.{0,10}(?:key|token).{0,10}['"=:\s]{1,5}([A-Za-z0-9/+]{40})\b)",
      {"aws"}, kCrit, 4.0));
  r.back().allowlists.push_back(Stopwords({"example"}));
  r.push_back(Make("gcp-api-key", "Google API key", R"(\b(AIza[0-9A-Za-z_-]{35})\b)", {"aiza"},
                   kHigh, 3.0));
  r.push_back(Make("azure-storage-account-key", "Azure storage account key",
                   R"((?i)AccountKey=([A-Za-z0-9+/]{86}==))", {"accountkey"}, kCrit, 4.0));

  // Source hosting and CI.
  r.push_back(Make("github-pat", "GitHub personal access token", R"(\b(ghp_[0-9A-Za-z]{36})\b)",
                   {"ghp_"}, kCrit, 3.0));
  r.push_back(Make("github-fine-grained-pat", "GitHub fine-grained personal access token",
                   R"(\b(github_pat_[0-9A-Za-z_]{82})\b)", {"github_pat_"}, kCrit, 3.0));
  r.push_back(Make("github-oauth", "GitHub OAuth access token", R"(\b(gho_[0-9A-Za-z]{36})\b)",
                   {"gho_"}, kCrit, 3.0));
  r.push_back(Make("github-app-token", "GitHub App token", R"(\b((?:ghu|ghs)_[0-9A-Za-z]{36})\b)",
                   {"ghu_", "ghs_"}, kCrit, 3.0));
  r.push_back(Make("github-refresh-token", "GitHub refresh token", R"(\b(ghr_[0-9A-Za-z]{36})\b)",
                   {"ghr_"}, kCrit, 3.0));
  r.push_back(Make("gitlab-pat", "GitLab personal access token",
                   R"(\b(glpat-[0-9A-Za-z_-]{20})(?:[^0-9A-Za-z_-]|$))", {"glpat-"}, kCrit, 3.0));
  r.push_back(Make("gitlab-runner-token", "GitLab runner authentication token",
                   R"(\b(glrt-[0-9A-Za-z_-]{20})(?:[^0-9A-Za-z_-]|$))", {"glrt-"}, kCrit, 3.0));
  r.push_back(Make("gitlab-pipeline-trigger-token", "GitLab pipeline trigger token",
                   R"(\b(glptt-[0-9a-f]{40})\b)", {"glptt-"}, kHigh, 3.0));
  r.push_back(Make("npm-access-token", "npm access token", R"(\b(npm_[A-Za-z0-9]{36})\b)", {"npm_"},
                   kCrit, 3.0));
  r.push_back(Make("pypi-upload-token", "PyPI upload token",
                   R"((pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}))", {"pypi-ageichlwas5vcmc"}, kCrit));

  // Chat and webhooks.
  r.push_back(Make("slack-bot-token", "Slack bot token",
                   R"((xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{20,32}))", {"xoxb-"}, kHigh));
  r.push_back(Make("slack-user-token", "Slack user token",
                   R"((xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9]{28,34}))", {"xoxp-", "xoxe-"},
                   kHigh));
  r.push_back(Make(
      "slack-webhook-url", "Slack incoming webhook",
      R"((hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9]{8,12}/[A-Za-z0-9]{8,12}/[A-Za-z0-9]{23,24}))",
      {"hooks.slack.com"}, kHigh));
  r.push_back(Make("discord-webhook-url", "Discord webhook",
                   R"((discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}))",
                   {"discord"}, kHigh));
  r.push_back(Make(
      "msteams-webhook-url", "Microsoft Teams incoming webhook",
      R"((?i)(https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-z0-9-]{36}@[a-z0-9-]{36}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9-]{36}))",
      {"webhook.office.com"}, kHigh));
  r.push_back(Make("telegram-bot-token", "Telegram bot token",
                   R"((?i)telegram.{0,40}?\b([0-9]{8,10}:AA[A-Za-z0-9_-]{33})\b)", {"telegram"},
                   kHigh));

  // Payments and SaaS APIs.
  r.push_back(Make("stripe-secret-key", "Stripe secret or restricted key",
                   R"(\b((?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99})\b)",
                   {"sk_test", "sk_live", "sk_prod", "rk_test", "rk_live", "rk_prod"}, kCrit, 2.0));
  r.push_back(Make("sendgrid-api-key", "SendGrid API key",
                   R"(\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})\b)", {"sg."}, kHigh, 2.0));
  r.push_back(Make("shopify-token", "Shopify access token",
                   R"(\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b)",
                   {"shpat_", "shpca_", "shppa_", "shpss_"}, kHigh));
  r.push_back(Make("linear-api-key", "Linear API key", R"(\b(lin_api_[A-Za-z0-9]{40})\b)",
                   {"lin_api_"}, kHigh));
  r.push_back(
      Make("openai-api-key", "OpenAI API key",
           R"(\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,74}T3BlbkFJ[A-Za-z0-9_-]{20,74})\b)",
           {"t3blbkfj"}, kCrit));
  r.push_back(Make("anthropic-api-key", "Anthropic API key",
                   R"(\b(sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA)\b)", {"sk-ant-"}, kCrit));
  r.push_back(Make("huggingface-token", "Hugging Face access token", R"(\b(hf_[A-Za-z]{34})\b)",
                   {"hf_"}, kHigh, 3.0));

  // Keys and tokens by shape.
  {
    Rule k = Make(
        "private-key", "Private key",
        R"((?s)(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----.{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----))",
        {"-----begin"}, kCrit);
    // Hyperscan only finds the header (with its start offset); RE2 then confirms the whole block.
    k.hs_regex = "-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY";
    k.multiline = true;
    r.push_back(k);
  }
  r.push_back(Make("jwt", "JSON Web Token",
                   R"(\b(ey[A-Za-z0-9_-]{15,}\.ey[A-Za-z0-9_-]{15,}\.[A-Za-z0-9_-]{10,}))", {"ey"},
                   kMed, 3.0));
  r.push_back(Make(
      "url-basic-auth", "Password in a URL",
      R"(\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^/\s:@'"`]{1,64}:([^/\s:@'"`$<>{}]{6,64})@[A-Za-z0-9.-]+)",
      {"://"}, kHigh, 2.5));
  r.back().allowlists.push_back(
      Stopwords({"password", "passwd", "changeme", "example", "secret", "xxxx", "****", "pass"}));

  // Generic: a credential-looking name assigned a high-entropy value.
  {
    Rule g = Make(
        "generic-api-key", "Generic high-entropy credential assignment",
        R"((?i)(?:key|api|token|secret|client|passwd|password|auth|access|credential)[0-9a-z_.-]{0,20}['"]?\s{0,3}(?::=|=>|=|:)\s{0,3}[`'"]?([0-9a-z_.=+/-]{16,150})(?:[`'"\s;,]|$))",
        {"key", "api", "token", "secret", "client", "passwd", "password", "auth", "access",
         "credential"},
        kMed, 3.7);
    // Hashes, ids and placeholders are high-entropy too: a pure hex value of a digest length,
    // a UUID, a path or an identifier with no digit at all is not a credential.
    Allowlist shapes;
    shapes.description = "digests, UUIDs, identifiers";
    shapes.regexes = {
        "^[0-9a-fA-F]{32}$",
        "^[0-9a-fA-F]{40}$",
        "^[0-9a-fA-F]{64}$",
        "^[0-9a-fA-F]{128}$",
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        "^[^0-9]*$"};
    g.allowlists.push_back(shapes);
    g.allowlists.push_back(
        Stopwords({"example", "placeholder", "changeme", "dummy", "sample", "redacted", "xxxxxx",
                   "your_", "your-", "test_key", "lorem", "ipsum"}));
    r.push_back(g);
  }

  // Global allowlist: template placeholders and environment references are never secrets.
  Allowlist global;
  global.description = "template placeholders";
  global.regexes = {R"(^\$\{[^}]*\}$)", R"(^\{\{.*\}\}$)", R"(^<[A-Za-z_ -]+>$)"};
  set.allowlists.push_back(global);
  return set;
}

}  // namespace stagehost::security_scan
