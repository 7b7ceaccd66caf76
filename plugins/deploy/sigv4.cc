// sigv4.cc -- canonical request, string to sign and signature of AWS Signature Version 4.
#include "sigv4.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "crypto.h"

namespace stagehost::deploy {

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string SigV4SigningKey(std::string_view secret, std::string_view date_yyyymmdd,
                            std::string_view region, std::string_view service) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date_yyyymmdd);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

namespace {

// Trims and collapses runs of spaces, as the canonical header value requires.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

SigV4Result SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                   std::string_view region, std::string_view service, std::string_view amz_date) {
  // Query: encode names and values, then sort by encoded name (then value).
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : request.query)
    query.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [k, v] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += k + "=" + v;
  }
  // Headers: lower-case names, sorted; values trimmed; duplicates joined by commas.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower;
    for (char c : name)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    auto [it, inserted] = headers.emplace(lower, CanonicalValue(value));
    if (!inserted) it->second += "," + CanonicalValue(value);
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  SigV4Result r;
  r.canonical_request = request.method + "\n" + (request.path.empty() ? "/" : request.path) + "\n" +
                        canonical_query + "\n" + canonical_headers + "\n" + signed_headers + "\n" +
                        request.payload_sha256;
  const std::string date(amz_date.substr(0, 8));
  const std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  r.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" +
                     Sha256Hex(r.canonical_request);
  r.signature = Hex(HmacSha256(
      SigV4SigningKey(credentials.secret_access_key, date, region, service), r.string_to_sign));
  r.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                    ",SignedHeaders=" + signed_headers + ",Signature=" + r.signature;
  return r;
}

std::string AmzDate(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace stagehost::deploy
