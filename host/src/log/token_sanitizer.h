// TokenSanitizer: masks what follows known token prefixes (glpat-…) and secret URL parameters.
#pragma once

#include <bitset>
#include <string>
#include <string_view>
#include <vector>

#include "log/byte_sink.h"
#include "util/status.h"

namespace stagehost::log {

// After each occurrence of a prefix, the run of characters that can belong to the value is
// replaced by "[MASKED]"; the prefix itself stays, so a reader still sees what was hidden.
// Token prefixes (`glpat-`) take a run of [0-9A-Za-z._=-], as gitlab-runner's token sanitizer;
// URL parameters (`?private_token=`, `&x-amz-signature=` …) take everything up to the next `&`,
// `#`, quote or whitespace. A prefix split across writes is found: bytes that may start one are
// held back (fewer than the longest prefix) until the next write or Close().
//
// Not thread-safe; one per stream, or one behind a lock.
class TokenSanitizer : public ByteSink {
 public:
  static constexpr std::string_view kMask = "[MASKED]";

  // gitlab-runner's defaults: glpat- plus the FF_MASK_ALL_DEFAULT_TOKENS set.
  static std::vector<std::string> DefaultTokenPrefixes();
  // Query parameters whose values gitlab-runner's URL sanitizer hides.
  static std::vector<std::string> DefaultUrlParameters();

  // `downstream` must outlive the sanitizer. Empty prefixes are ignored.
  TokenSanitizer(ByteSink* downstream, std::vector<std::string> token_prefixes,
                 std::vector<std::string> url_parameters);

  Status Write(std::string_view bytes) override;
  Status Flush() override { return downstream_->Flush(); }
  // Ends the stream: a held partial prefix is plain text, an open value is masked.
  Status Close();

 private:
  enum class RunKind { kToken, kUrlValue };
  struct Prefix {
    std::string text;
    RunKind kind;
  };

  static bool InRun(RunKind kind, unsigned char c);
  static size_t PairIndex(char first, char second);
  Status Process(std::string_view data);

  ByteSink* downstream_;
  std::vector<Prefix> prefixes_;
  bool may_start_[256] = {};
  // First two bytes of some prefix: most of the prefixes start "gl", and 'g' alone is common in
  // logs, so the second byte rules out nearly every candidate before any comparison.
  std::bitset<65536> may_start_pair_;
  size_t longest_ = 0;
  std::string held_;     // a possible partial prefix at the end of the last write
  bool in_run_ = false;  // inside a value being masked
  RunKind run_kind_ = RunKind::kToken;
  size_t run_length_ = 0;
  std::string out_;
};

}  // namespace stagehost::log
