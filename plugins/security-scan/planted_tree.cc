// planted_tree.cc -- the generated tree of planted secrets and decoys (see planted_tree.h).
#include "planted_tree.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace stagehost::security_scan::testing {
namespace {

const std::string kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const std::string kLower = "abcdefghijklmnopqrstuvwxyz";
const std::string kDigits = "0123456789";
const std::string kAlnum = kUpper + kLower + kDigits;
const std::string kHex = "0123456789abcdef";

void Write(const std::string& dir, const std::string& rel, const std::string& text) {
  const std::filesystem::path p = std::filesystem::path(dir) / rel;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string Base64(const std::string& in, bool url) {
  const std::string table = kUpper + kLower + kDigits + (url ? "-_" : "+/");
  std::string out;
  unsigned val = 0;
  int bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(table[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(table[((val << 8) >> (bits + 8)) & 0x3F]);
  if (!url) {
    while (out.size() % 4) out.push_back('=');
  }
  return out;
}

// Lines are 1-based: the secret sits on line (number of '\n' before `marker`) + 1.
std::uint32_t LineOf(const std::string& text, const std::string& marker) {
  const std::size_t at = text.find(marker);
  if (at == std::string::npos) throw std::logic_error("marker not in text");
  return 1 + static_cast<std::uint32_t>(
                 std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

}  // namespace

std::string RandomString(std::uint64_t& state, std::size_t n, const std::string& alphabet) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    s.push_back(alphabet[(state >> 33) % alphabet.size()]);
  }
  return s;
}

PlantedTree WritePlantedTree(const std::string& dir) {
  PlantedTree t;
  std::uint64_t st = 0x5eed5eed1234ULL;
  auto R = [&](std::size_t n, const std::string& a) { return RandomString(st, n, a); };
  auto plant = [&](const std::string& rule, const std::string& path, const std::string& text,
                   const std::string& value) {
    Write(dir, path, text);
    t.secrets.push_back({rule, path, LineOf(text, value), value});
  };
  const std::string lorem =
      "# Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"
      "# Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip.\n";

  // Cloud keys.
  const std::string aws_id = std::string("AK") + "IA" + R(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
  plant("aws-access-key-id", "config/settings.py",
        lorem + "REGION = \"eu-west-1\"\nAWS_ACCESS_KEY_ID = \"" + aws_id + "\"\n", aws_id);
  const std::string aws_secret = R(40, kAlnum + "/+");
  plant("aws-secret-access-key", "deploy/credentials.ini",
        "[default]\nregion = eu-west-1\naws_secret_access_key = " + aws_secret + "\n", aws_secret);
  const std::string gcp = std::string("AI") + "za" + R(35, kAlnum + "_-");
  plant("gcp-api-key", "android/res/values.xml",
        "<resources>\n  <string name=\"maps_key\">" + gcp + "</string>\n</resources>\n", gcp);

  // VCS and CI tokens.
  const std::string ghp = std::string("gh") + "p_" + R(36, kAlnum);
  plant("github-pat", "scripts/release.sh",
        "#!/bin/sh\nset -e\nexport GITHUB_TOKEN=" + ghp + "\ngh release create \"$1\"\n", ghp);
  const std::string glpat = std::string("gl") + "pat-" + R(20, kAlnum);
  plant("gitlab-pat", "ci/vars.env", "CI_SERVER=gitlab.example.com\nGITLAB_TOKEN=" + glpat + "\n",
        glpat);
  const std::string npm = std::string("np") + "m_" + R(36, kAlnum);
  plant("npm-access-token", ".npmrc",
        "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=" + npm + "\n",
        npm);

  // Chat and webhooks.
  const std::string xoxb =
      std::string("xo") + "xb-" + R(12, kDigits) + "-" + R(13, kDigits) + "-" + R(24, kAlnum);
  plant("slack-bot-token", "notify/slack.py",
        "import os\n\n\ndef client():\n    token = \"" + xoxb + "\"\n    return token\n", xoxb);
  const std::string hook = std::string("hooks.sl") + "ack.com/services/T" + R(8, kUpper + kDigits) +
                           "/B" + R(8, kUpper + kDigits) + "/" + R(24, kAlnum);
  plant("slack-webhook-url", "notify/hooks.yaml",
        "alerts:\n  channel: ops\n  url: https://" + hook + "\n", hook);
  const std::string discord =
      std::string("discord") + ".com/api/webhooks/" + R(18, kDigits) + "/" + R(68, kAlnum + "_-");
  plant("discord-webhook-url", "notify/discord.txt", "https://" + discord + "\n", discord);

  // Payment and SaaS keys.
  const std::string stripe = std::string("sk_") + "live_" + R(24, kAlnum);
  plant("stripe-secret-key", "billing/config.js",
        "module.exports = {\n  currency: 'eur',\n  stripeKey: '" + stripe + "',\n};\n", stripe);
  const std::string sg =
      std::string("SG") + "." + R(22, kAlnum + "_-") + "." + R(43, kAlnum + "_-");
  plant("sendgrid-api-key", "mail/send.py", "SENDGRID = '" + sg + "'\n", sg);
  const std::string shop = std::string("shp") + "at_" + R(32, kHex);
  plant("shopify-token", "shop/client.rb", "class Shop\n  TOKEN = \"" + shop + "\"\nend\n", shop);
  const std::string openai =
      std::string("sk-") + "proj-" + R(24, kAlnum) + "T3Blbk" + "FJ" + R(24, kAlnum);
  plant("openai-api-key", "llm/client.py", lorem + "OPENAI_API_KEY = \"" + openai + "\"\n", openai);

  // Private key, JWT, generic assignment, URL credentials.
  std::string body;
  for (int i = 0; i < 6; ++i) body += R(64, kAlnum + "+/") + "\n";
  const std::string begin = std::string("-----BEGIN RSA PRIV") + "ATE KEY-----";
  const std::string end = std::string("-----END RSA PRIV") + "ATE KEY-----";
  const std::string pem = begin + "\n" + body + end;
  plant("private-key", "keys/deploy_key", "\n" + pem + "\n", pem);
  const std::string jwt =
      Base64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", true) + "." +
      Base64("{\"sub\":\"" + R(10, kDigits) + "\",\"name\":\"" + R(12, kLower) + "\"}", true) +
      "." + R(43, kAlnum + "-_");
  plant("jwt", "web/app.ts",
        "// session\nconst session = \"" + jwt + "\";\nexport default session;\n", jwt);
  const std::string generic = R(12, kLower) + R(8, kDigits) + R(12, kUpper);
  plant("generic-api-key", "service/settings.yaml",
        "service:\n  name: scorer\n  api_key: \"" + generic + "\"\n", generic);
  const std::string dbpass = R(10, kAlnum) + R(4, kDigits);
  plant("url-basic-auth", "service/.env",
        "DEBUG=0\nDATABASE_URL=postgres://scorer:" + dbpass + "@db.internal:5432/app\n", dbpass);

  // A notebook whose *output* holds a token, and a base64-wrapped token in a Kubernetes secret.
  const std::string hf = std::string("hf") + "_" + R(34, kUpper + kLower);
  {
    const std::string nb =
        "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"source\": [\"print(login())\"],\n"
        "   \"outputs\": [\n    {\n     \"output_type\": \"stream\",\n     \"name\": \"stdout\",\n"
        "     \"text\": [\"logged in with " +
        hf +
        "\\n\"]\n    }\n   ]\n  }\n ],\n"
        " \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n";
    plant("huggingface-token", "notebooks/train.ipynb", nb, hf);
  }
  const std::string ghp2 = std::string("gh") + "p_" + R(36, kAlnum);
  {
    const std::string wrapped = Base64("GITHUB_TOKEN=" + ghp2 + "\n", false);
    const std::string yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ci\ndata:\n  env: " + wrapped + "\n";
    Write(dir, "k8s/ci.yaml", yaml);
    t.secrets.push_back({"github-pat", "k8s/ci.yaml", LineOf(yaml, wrapped), ghp2});
  }

  // Decoys: none of these may be reported.
  auto decoy = [&](const std::string& path, const std::string& text, const std::string& marker) {
    Write(dir, path, text);
    t.decoys.push_back(path + ":" + std::to_string(LineOf(text, marker)));
  };
  decoy("docs/aws.md", "Example key: `AKIAIOSFODNN7EXAMPLE` (from the AWS docs)\n",
        "AKIAIOSFODNN7EXAMPLE");
  const std::string sha = R(64, kHex);
  decoy("data/manifest.json", "{\n  \"file\": \"model.bin\",\n  \"sha256\": \"" + sha + "\"\n}\n",
        sha);
  const std::string commit = R(40, kHex);
  decoy("docs/release.md", "Built from commit_id = " + commit + " on main.\n", commit);
  const std::string uuid =
      R(8, kHex) + "-" + R(4, kHex) + "-4" + R(3, kHex) + "-a" + R(3, kHex) + "-" + R(12, kHex);
  decoy("service/ids.py", "REQUEST_ID_KEY = \"" + uuid + "\"\n", uuid);
  decoy("service/template.yaml", "api_key: \"${API_KEY}\"\ntoken: \"{{ vault_token }}\"\n",
        "API_KEY");
  decoy("README.md", lorem + "Set `password = \"changeme\"` locally.\n", "changeme");
  decoy("docs/connect.md", "Connect with postgres://user:password@localhost/db\n", "user:password");
  decoy("src/auth.py",
        "def get_token(self):\n    return self.access_token_provider.current_value\n",
        "access_token");
  const std::string md5 = R(32, kHex);
  decoy("scripts/checksums.txt", "md5 hash_key = " + md5 + "\n", md5);
  decoy("notify/allowed.py",
        "TOKEN = \"" + std::string("gh") + "p_" + R(36, kAlnum) + "\"  # stagehost:allow\n",
        "TOKEN");
  // Vendored and generated trees are skipped even when they hold real-looking tokens.
  Write(dir, "node_modules/pkg/index.js",
        "var t = '" + std::string("gh") + "p_" + R(36, kAlnum) + "';\n");
  Write(dir, "build/gen/config.h",
        "#define KEY \"" + std::string("sk_") + "live_" + R(24, kAlnum) + "\"\n");
  return t;
}

}  // namespace stagehost::security_scan::testing
