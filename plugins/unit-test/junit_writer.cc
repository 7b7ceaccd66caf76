// junit_writer.cc -- the normalised JUnit XML, streamed through a 1 MiB buffer so memory stays
// flat.
#include "junit_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

namespace stagehost::unit_test {
namespace {

// Receives the bytes: a FILE* or a std::string.
class Out {
 public:
  explicit Out(std::FILE* file) : file_(file) { buffer_.reserve(kChunk + 4096); }
  explicit Out(std::string* text) : text_(text) {}
  ~Out() = default;

  void Put(std::string_view s) {
    bytes_ += s.size();
    std::string& target = text_ ? *text_ : buffer_;
    target.append(s);
    if (!text_ && buffer_.size() >= kChunk) Flush();
  }
  void Put(char c) {
    ++bytes_;
    std::string& target = text_ ? *text_ : buffer_;
    target.push_back(c);
  }
  void Flush() {
    if (file_ && !buffer_.empty()) {
      if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) failed_ = true;
      buffer_.clear();
    }
  }
  bool failed() const { return failed_; }
  std::size_t bytes() const { return bytes_; }

 private:
  static constexpr std::size_t kChunk = 1 << 20;
  std::FILE* file_ = nullptr;
  std::string* text_ = nullptr;
  std::string buffer_;
  std::size_t bytes_ = 0;
  bool failed_ = false;
};

// XML 1.0 forbids C0 controls other than TAB, LF, CR even as character references; test output
// (ANSI colours, NULs) is full of them, so they become '?'. In attributes, TAB/LF/CR become
// references so a reader keeps them.
void Escape(Out& out, std::string_view s, bool attribute) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    const char* rep = nullptr;
    char control[2] = {'?', 0};
    switch (c) {
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '&':
        rep = "&amp;";
        break;
      case '"':
        if (attribute) rep = "&quot;";
        break;
      case '\n':
        if (attribute) rep = "&#10;";
        break;
      case '\r':
        rep = "&#13;";
        break;
      case '\t':
        if (attribute) rep = "&#9;";
        break;
      default:
        if (c < 0x20 || c == 0x7F) rep = control;
        break;
    }
    if (rep == nullptr) continue;
    out.Put(s.substr(run, i - run));
    out.Put(std::string_view(rep));
    run = i + 1;
  }
  out.Put(s.substr(run));
}

void Attr(Out& out, const char* name, std::string_view value) {
  out.Put(' ');
  out.Put(std::string_view(name));
  out.Put("=\"");
  Escape(out, value, true);
  out.Put('"');
}

std::string FormatTime(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", seconds);
  return buffer;
}

class Writer {
 public:
  Writer(Out& out, const WritePlan& plan) : out_(out), plan_(plan) {}

  void Text(std::string_view text) {
    if (plan_.text_cap > 0 && text.size() > plan_.text_cap) {
      std::string_view tail = Tail(text, plan_.text_cap);
      ++cut_;
      out_.Put("[stagehost: " + std::to_string(text.size() - tail.size()) +
               " bytes cut from the start; the last " + std::to_string(tail.size()) +
               " bytes follow]\n");
      text = tail;
    }
    Escape(out_, text, false);
  }

  void Element(const char* tag, std::string_view text) {
    if (text.empty()) return;
    out_.Put("<");
    out_.Put(tag);
    out_.Put(">");
    Text(text);
    out_.Put("</");
    out_.Put(tag);
    out_.Put(">");
  }

  void WriteAttempt(const char* tag, const Attempt& a) {
    out_.Put("<");
    out_.Put(tag);
    if (!a.message.empty()) Attr(out_, "message", a.message.substr(0, 4096));
    if (!a.type.empty()) Attr(out_, "type", a.type);
    out_.Put(">");
    // Surefire's shape: the trace in <stackTrace>, the attempt's own output beside it.
    Element("stackTrace", a.body);
    Element("system-out", a.system_out);
    Element("system-err", a.system_err);
    out_.Put("</");
    out_.Put(tag);
    out_.Put(">");
  }

  void Case(const TestCase& tc) {
    out_.Put("    <testcase");
    Attr(out_, "classname", tc.classname);
    Attr(out_, "name", tc.name);
    if (!tc.file.empty()) Attr(out_, "file", tc.file);
    if (!tc.line.empty()) Attr(out_, "line", tc.line);
    Attr(out_, "time", FormatTime(tc.time));
    if (tc.quarantined) Attr(out_, "quarantined", "true");
    out_.Put(">");
    if (tc.verdict != Verdict::kPassed) {
      const char* tag = tc.verdict == Verdict::kFailed  ? "failure"
                        : tc.verdict == Verdict::kError ? "error"
                                                        : "skipped";
      out_.Put("<");
      out_.Put(tag);
      std::string_view message = tc.message.substr(0, 4096);
      if (tc.quarantined) {
        Attr(out_, "message", "[quarantined] " + std::string(message));
      } else if (!message.empty()) {
        Attr(out_, "message", message);
      }
      if (!tc.type.empty()) Attr(out_, "type", tc.type);
      if (tc.body.empty()) {
        out_.Put("/>");
      } else {
        out_.Put(">");
        Text(tc.body);
        out_.Put("</");
        out_.Put(tag);
        out_.Put(">");
      }
    }
    for (const auto& a : tc.flaky) WriteAttempt(a.error ? "flakyError" : "flakyFailure", a);
    for (const auto& a : tc.reruns) WriteAttempt(a.error ? "rerunError" : "rerunFailure", a);
    if (!plan_.drop_properties && !tc.properties.empty()) {
      out_.Put("<properties>");
      for (const Property& p : tc.properties) {
        out_.Put("<property");
        Attr(out_, "name", p.name);
        Attr(out_, "value", p.value);
        out_.Put("/>");
      }
      out_.Put("</properties>");
    }
    Element("system-out", tc.system_out);
    Element("system-err", tc.system_err);
    out_.Put("</testcase>\n");
  }

  std::size_t cut() const { return cut_; }

 private:
  Out& out_;
  const WritePlan& plan_;
  std::size_t cut_ = 0;
};

struct SuiteTotals {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  double time = 0;
  std::vector<std::size_t> members;
};

void Tally(SuiteTotals& t, const TestCase& tc) {
  ++t.tests;
  t.time += tc.time;
  t.failures += tc.verdict == Verdict::kFailed;
  t.errors += tc.verdict == Verdict::kError;
  t.skipped += tc.verdict == Verdict::kSkipped;
}

// `<testsuites` or `  <testsuite` with its name and totals, closed with '>'.
void OpenTotalsElement(Out& out, std::string_view open_tag, std::string_view name,
                       const SuiteTotals& t) {
  out.Put(open_tag);
  Attr(out, "name", name);
  Attr(out, "tests", std::to_string(t.tests));
  Attr(out, "failures", std::to_string(t.failures));
  Attr(out, "errors", std::to_string(t.errors));
  Attr(out, "skipped", std::to_string(t.skipped));
  Attr(out, "time", FormatTime(t.time));
  out.Put(">\n");
}

void Render(Out& out, const Report& report, const WritePlan& plan, const std::string& name,
            WriteStats* stats) {
  // Group by suite name, in first-seen order, so each suite appears once.
  std::vector<std::string_view> order;
  std::unordered_map<std::string_view, SuiteTotals> suites;
  SuiteTotals all;
  for (std::size_t i = 0; i < report.cases.size(); ++i) {
    const TestCase& tc = report.cases[i];
    auto [it, inserted] = suites.try_emplace(tc.suite);
    if (inserted) order.push_back(tc.suite);
    it->second.members.push_back(i);
    Tally(it->second, tc);
    Tally(all, tc);
  }
  out.Put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  for (const std::string& note : report.notes) {
    std::string safe = note;
    for (std::size_t p = safe.find("--"); p != std::string::npos; p = safe.find("--", p)) {
      safe.replace(p, 2, "- -");
    }
    out.Put("<!-- stagehost: ");
    Escape(out, safe, false);
    out.Put(" -->\n");
  }
  OpenTotalsElement(out, "<testsuites", name, all);
  Writer writer(out, plan);
  for (std::string_view suite_name : order) {
    const SuiteTotals& t = suites[suite_name];
    OpenTotalsElement(out, "  <testsuite", suite_name, t);
    for (std::size_t i : t.members) writer.Case(report.cases[i]);
    out.Put("  </testsuite>\n");
  }
  out.Put("</testsuites>\n");
  if (stats) {
    stats->bytes = out.bytes();
    stats->texts_cut = writer.cut();
  }
}

}  // namespace

std::string RenderJUnit(const Report& report, const WritePlan& plan, const std::string& name,
                        WriteStats* stats) {
  std::string text;
  Out out(&text);
  Render(out, report, plan, name, stats);
  return text;
}

WriteStats WriteJUnit(const Report& report, const WritePlan& plan, const std::string& name,
                      const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  WriteStats stats;
  bool failed;
  {
    Out out(file);
    Render(out, report, plan, name, &stats);
    out.Flush();
    failed = out.failed();
  }
  if (std::fclose(file) != 0 || failed) {
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
  return stats;
}

}  // namespace stagehost::unit_test
