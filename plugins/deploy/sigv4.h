// sigv4.h -- AWS Signature Version 4 (header-based, AWS4-HMAC-SHA256) for S3-compatible stores.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stagehost::deploy {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
};

struct SigV4Request {
  std::string method;
  std::string path;  // the URI path as sent, already percent-encoded ("/bucket/a%20b")
  // Query parameters, not encoded; "uploads" with an empty value is written "uploads=".
  std::vector<std::pair<std::string, std::string>> query;
  // Every header to sign (name in any case). `host` must be included exactly as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string authorization;  // the Authorization header value
};

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX in upper
// case; '/' kept when `keep_slash` (object key paths).
std::string UriEncode(std::string_view text, bool keep_slash);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
std::string SigV4SigningKey(std::string_view secret, std::string_view date_yyyymmdd,
                            std::string_view region, std::string_view service);

// Signs `request`; `amz_date` is the x-amz-date value (YYYYMMDD'T'HHMMSS'Z') sent with it.
SigV4Result SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                   std::string_view region, std::string_view service, std::string_view amz_date);

// Formats `t` (UTC) as an x-amz-date value.
std::string AmzDate(std::time_t t);

}  // namespace stagehost::deploy
