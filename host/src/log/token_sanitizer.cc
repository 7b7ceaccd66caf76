// TokenSanitizer: prefix scan with a first-byte filter, values swallowed until their run ends.
#include "log/token_sanitizer.h"

#include <cstring>

namespace stagehost::log {

std::vector<std::string> TokenSanitizer::DefaultTokenPrefixes() {
  return {"glpat-", "gloas-", "gldt-",    "glrt-",   "glcbt-",  "glrtr-", "glptt-",
          "glft-",  "glimt-", "glagent-", "glsoat-", "glffct-", "gltok-", "_gitlab_session="};
}

std::vector<std::string> TokenSanitizer::DefaultUrlParameters() {
  return {"private_token",   "authenticity_token", "rss_token",
          "x-amz-signature", "x-amz-credential",   "x-amz-security-token"};
}

TokenSanitizer::TokenSanitizer(ByteSink* downstream, std::vector<std::string> token_prefixes,
                               std::vector<std::string> url_parameters)
    : downstream_(downstream) {
  for (std::string& text : token_prefixes) {
    if (!text.empty()) prefixes_.push_back({std::move(text), RunKind::kToken});
  }
  for (const std::string& name : url_parameters) {
    if (name.empty()) continue;
    // Only as a query parameter: the name right after `?` or `&`.
    prefixes_.push_back({"?" + name + "=", RunKind::kUrlValue});
    prefixes_.push_back({"&" + name + "=", RunKind::kUrlValue});
  }
  for (const Prefix& prefix : prefixes_) {
    may_start_[static_cast<unsigned char>(prefix.text[0])] = true;
    if (prefix.text.size() >= 2) {
      may_start_pair_.set(PairIndex(prefix.text[0], prefix.text[1]));
    } else {
      for (int second = 0; second < 256; ++second) {
        may_start_pair_.set(PairIndex(prefix.text[0], static_cast<char>(second)));
      }
    }
    longest_ = std::max(longest_, prefix.text.size());
  }
}

size_t TokenSanitizer::PairIndex(char first, char second) {
  return static_cast<size_t>(static_cast<unsigned char>(first)) << 8 |
         static_cast<unsigned char>(second);
}

bool TokenSanitizer::InRun(RunKind kind, unsigned char c) {
  if (kind == RunKind::kToken) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
           c == '_' || c == '=' || c == '-';
  }
  return !(c == '&' || c == '#' || c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\n' ||
           c == '\r' || c == '<' || c == '>' || c < 0x20);
}

Status TokenSanitizer::Write(std::string_view bytes) {
  if (prefixes_.empty()) return downstream_->Write(bytes);
  if (held_.empty()) return Process(bytes);
  std::string joined = std::move(held_);
  held_.clear();
  joined.append(bytes);
  return Process(joined);
}

Status TokenSanitizer::Process(std::string_view data) {
  out_.clear();
  size_t i = 0;          // next byte to decide
  size_t emit_from = 0;  // start of plain bytes not yet copied to out_
  const size_t n = data.size();
  while (i < n) {
    if (in_run_) {
      size_t j = i;
      while (j < n && InRun(run_kind_, static_cast<unsigned char>(data[j]))) ++j;
      run_length_ += j - i;
      i = j;
      emit_from = j;
      if (j == n) break;  // the value may go on in the next write
      if (run_length_ > 0) out_.append(kMask);
      in_run_ = false;
      continue;
    }
    // Plain text: find the next byte that may start a prefix (the last byte of a write always
    // may: its follower is unknown).
    size_t j = i;
    while (j < n && !(may_start_[static_cast<unsigned char>(data[j])] &&
                      (j + 1 == n || may_start_pair_.test(PairIndex(data[j], data[j + 1]))))) {
      ++j;
    }
    if (j == n) {
      i = n;
      break;
    }
    bool matched = false;
    bool partial = false;
    for (const Prefix& prefix : prefixes_) {
      const std::string& text = prefix.text;
      if (text[0] != data[j]) continue;
      size_t available = n - j;
      if (available >= text.size()) {
        if (std::memcmp(data.data() + j, text.data(), text.size()) == 0) {
          out_.append(data.substr(emit_from, j + text.size() - emit_from));
          i = emit_from = j + text.size();
          in_run_ = true;
          run_kind_ = prefix.kind;
          run_length_ = 0;
          matched = true;
          break;
        }
      } else if (std::memcmp(data.data() + j, text.data(), available) == 0) {
        partial = true;
      }
    }
    if (matched) continue;
    if (partial) {
      // The rest may complete a prefix with the next write: hold it (shorter than any prefix).
      out_.append(data.substr(emit_from, j - emit_from));
      held_.assign(data.substr(j));
      emit_from = i = n;
      break;
    }
    i = j + 1;
  }
  if (!in_run_ && emit_from < n && held_.empty()) out_.append(data.substr(emit_from));
  if (out_.empty()) return Status::Ok();
  return downstream_->Write(out_);
}

Status TokenSanitizer::Close() {
  std::string rest = std::move(held_);
  held_.clear();
  if (in_run_ && run_length_ > 0) rest.insert(0, kMask);
  in_run_ = false;
  if (!rest.empty()) STAGEHOST_RETURN_IF_ERROR(downstream_->Write(rest));
  return downstream_->Flush();
}

}  // namespace stagehost::log
