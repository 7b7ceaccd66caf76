// junit_model.h -- the test model every JUnit dialect is read into and the normalised report is
// written from, plus the two error types of the core library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stagehost::unit_test {

// The configuration or an input cannot be used (malformed report, missing file, ...). The plugin
// turns it into sdk::BadConfig (exit code 2): no verdict on the project is possible.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The run was cancelled while the core was waiting on a test command.
class CancelledError : public std::runtime_error {
 public:
  CancelledError() : std::runtime_error("cancelled") {}
};

// GitLab's precedence when several result elements are present: failure > error > skipped.
enum class Verdict { kPassed, kFailed, kError, kSkipped };

// One failed attempt kept beside a test's final result, in Surefire's rerun form:
// <flakyFailure>/<flakyError> before a final pass, <rerunFailure>/<rerunError> after a final fail.
struct Attempt {
  bool error = false;
  std::string_view message;
  std::string_view type;
  std::string_view body;
  std::string_view system_out;
  std::string_view system_err;
  double time = 0;
};

struct Property {
  std::string_view name;
  std::string_view value;
};

// Strings are views into the report's Arena (the in-situ parsed file buffers or owned strings),
// so a 100 MB report is not copied once more into the model.
struct TestCase {
  std::string_view suite;
  std::string_view classname;
  std::string_view name;
  std::string_view file;
  std::string_view line;
  double time = 0;
  Verdict verdict = Verdict::kPassed;
  std::string_view message;  // of the failure/error/skipped element
  std::string_view type;
  std::string_view body;
  std::string_view system_out;
  std::string_view system_err;
  std::vector<Property> properties;
  std::vector<Attempt> flaky;   // failed attempts before the final pass
  std::vector<Attempt> reruns;  // failed reruns after a failing first attempt
  bool quarantined = false;
  std::uint32_t source = 0;  // index into Report::sources

  bool failing() const { return verdict == Verdict::kFailed || verdict == Verdict::kError; }
  // "classname::name": the identity GitLab uses, and what quarantine patterns match.
  std::string Id() const {
    std::string id(classname);
    id += "::";
    id += name;
    return id;
  }
};

// Owns the bytes the string_views of a Report point into. Buffers never move once added.
class Arena {
 public:
  std::string_view Keep(std::string text) {
    strings_.push_back(std::make_unique<std::string>(std::move(text)));
    return *strings_.back();
  }
  char* NewBuffer(std::size_t size) {
    buffers_.push_back(std::make_unique<char[]>(size));
    return buffers_.back().get();
  }
  void Absorb(Arena&& other) {
    for (auto& s : other.strings_) strings_.push_back(std::move(s));
    for (auto& b : other.buffers_) buffers_.push_back(std::move(b));
    other.strings_.clear();
    other.buffers_.clear();
  }

 private:
  std::vector<std::unique_ptr<std::string>> strings_;
  std::vector<std::unique_ptr<char[]>> buffers_;
};

struct Report {
  std::vector<TestCase> cases;
  std::vector<std::string> sources;  // workspace-relative paths of the files read
  std::vector<std::string> notes;    // what normalisation changed or cut; logged and written
  Arena arena;
};

struct Counts {
  std::size_t tests = 0;
  std::size_t passed = 0;
  std::size_t failed = 0;  // failures not quarantined
  std::size_t errors = 0;  // errors not quarantined
  std::size_t skipped = 0;
  std::size_t flaky = 0;        // passed after failed attempts
  std::size_t quarantined = 0;  // failing but quarantined
  double time = 0;
};

Counts CountCases(const std::vector<TestCase>& cases);

}  // namespace stagehost::unit_test
