// junit_reader.cc -- JUnit XML (every dialect we meet) -> TestCase list, via pugixml in situ.
#include "junit_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <pugixml.hpp>
#include <string>

namespace stagehost::unit_test {
namespace {

std::string Fail(const std::string& display, const std::string& what) {
  return "report " + display + ": " + what;
}

// 1-based line and column of byte `offset`, for messages that point at the problem.
std::string Where(std::string_view bytes, std::size_t offset) {
  offset = std::min(offset, bytes.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (bytes[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Checks the prolog: a UTF-16/32 BOM or an encoding other than UTF-8/ASCII is refused (pugixml
// would guess or convert silently), and so is any DOCTYPE that declares entities, the vehicle of
// billion-laughs expansion and external entity (XXE) reads. JUnit never needs either.
void CheckProlog(std::string_view bytes, const std::string& display) {
  if (bytes.size() >= 2 &&
      ((bytes[0] == '\xFF' && bytes[1] == '\xFE') || (bytes[0] == '\xFE' && bytes[1] == '\xFF'))) {
    throw UsageError(Fail(display, "is UTF-16 (byte order mark); only UTF-8 reports are read"));
  }
  std::string_view head = bytes.substr(0, 4096);
  if (head.substr(0, 5) == "<?xml") {
    std::size_t end = head.find("?>");
    std::string_view decl = head.substr(0, end);
    std::size_t enc = decl.find("encoding");
    if (enc != std::string_view::npos) {
      std::size_t q = decl.find_first_of("\"'", enc);
      std::size_t q2 = q == std::string_view::npos ? q : decl.find(decl[q], q + 1);
      if (q2 != std::string_view::npos) {
        std::string name = Lower(decl.substr(q + 1, q2 - q - 1));
        if (name != "utf-8" && name != "utf8" && name != "us-ascii" && name != "ascii") {
          throw UsageError(Fail(display, "declares encoding \"" +
                                             std::string(decl.substr(q + 1, q2 - q - 1)) +
                                             "\"; only UTF-8 reports are read (re-run the tool "
                                             "with UTF-8 output)"));
        }
      }
    }
  }
  // A DOCTYPE may only appear before the root element, so the prolog is enough to look at; but
  // the prolog can be long (comments), so search up to the first element start that is not "<!"
  // or "<?".
  std::size_t pos = 0;
  while (true) {
    pos = bytes.find('<', pos);
    if (pos == std::string_view::npos || pos + 1 >= bytes.size()) return;
    char next = bytes[pos + 1];
    if (next == '?') {
      pos += 2;
      continue;
    }
    if (bytes.compare(pos, 4, "<!--") == 0) {
      std::size_t end = bytes.find("-->", pos + 4);
      if (end == std::string_view::npos) return;  // the parser reports it
      pos = end + 3;
      continue;
    }
    if (bytes.compare(pos, 9, "<!DOCTYPE") == 0) {
      std::size_t end = bytes.find('>', pos);
      std::size_t bracket = bytes.find('[', pos);
      if (bracket != std::string_view::npos && bracket < end) end = bytes.find("]>", bracket);
      std::string_view doctype =
          bytes.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
      if (doctype.find("<!ENTITY") != std::string_view::npos) {
        throw UsageError(Fail(display, "has a DOCTYPE declaring entities (" + Where(bytes, pos) +
                                           "); refused: entity expansion (\"billion laughs\") "
                                           "and external entities are not allowed in reports"));
      }
      if (doctype.find("SYSTEM") != std::string_view::npos ||
          doctype.find("PUBLIC") != std::string_view::npos) {
        throw UsageError(
            Fail(display, "has a DOCTYPE naming an external DTD; refused (JUnit needs none)"));
      }
      return;
    }
    return;
  }
}

// Concatenated text (PCDATA and CDATA children) of `node`, without copying in the common case of
// a single child.
std::string_view Text(pugi::xml_node node, Arena& arena) {
  pugi::xml_node first;
  int count = 0;
  for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      if (count++ == 0) first = child;
    }
  }
  if (count == 0) return {};
  if (count == 1) return first.value();
  std::string joined;
  for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      joined += child.value();
    }
  }
  return arena.Keep(std::move(joined));
}

std::string_view Attr(pugi::xml_node node, const char* name) {
  pugi::xml_attribute attr = node.attribute(name);
  return attr ? std::string_view(attr.value()) : std::string_view();
}

double ParseTime(std::string_view text) {
  if (text.empty()) return 0;
  // Some producers write "1,234.5" (thousands separators); strtod stops at the comma.
  std::string clean;
  for (char c : text) {
    if (c != ',') clean.push_back(c);
  }
  char* end = nullptr;
  double value = std::strtod(clean.c_str(), &end);
  return (end == clean.c_str() || !(value >= 0) || value > 1e9) ? 0 : value;
}

Attempt ReadAttempt(pugi::xml_node node, bool error, Arena& arena) {
  Attempt attempt;
  attempt.error = error;
  attempt.message = Attr(node, "message");
  attempt.type = Attr(node, "type");
  pugi::xml_node trace = node.child("stackTrace");
  attempt.body = trace ? Text(trace, arena) : Text(node, arena);
  attempt.system_out = Text(node.child("system-out"), arena);
  attempt.system_err = Text(node.child("system-err"), arena);
  attempt.time = ParseTime(Attr(node, "time"));
  return attempt;
}

class Walker {
 public:
  Walker(Report& report, std::uint32_t source) : report_(report), source_(source) {}

  void Suite(pugi::xml_node suite, std::string_view parent_name) {
    std::string_view name = Attr(suite, "name");
    std::string_view package = Attr(suite, "package");
    if (!package.empty() && name.substr(0, package.size()) != package) {
      // Jenkins prefixes the suite name with its package; so do we.
      name = report_.arena.Keep(std::string(package) + "." + std::string(name));
    }
    if (name.empty()) name = parent_name;
    for (pugi::xml_node child = suite.first_child(); child; child = child.next_sibling()) {
      std::string_view tag = child.name();
      if (tag == "testcase") {
        Case(child, name);
      } else if (tag == "testsuite") {
        Suite(child, name);
      } else if (tag == "error" || tag == "failure") {
        // A suite-level error (a class that failed to load): Jenkins shows it as a pseudo test
        // "<init>"; without one GitLab would show nothing at all.
        TestCase tc;
        tc.suite = name;
        tc.classname = name;
        tc.name = "<init>";
        tc.verdict = Verdict::kError;
        tc.message = Attr(child, "message");
        tc.type = Attr(child, "type");
        tc.body = Text(child, report_.arena);
        tc.source = source_;
        report_.cases.push_back(std::move(tc));
      }
    }
  }

 private:
  void Case(pugi::xml_node node, std::string_view suite) {
    TestCase tc;
    tc.suite = suite;
    tc.source = source_;
    tc.classname = Attr(node, "classname");
    if (tc.classname.empty()) tc.classname = suite;  // as Jenkins does
    tc.name = Attr(node, "name");
    tc.file = Attr(node, "file");
    tc.line = Attr(node, "line");
    tc.time = ParseTime(Attr(node, "time"));
    pugi::xml_node failure, error, skipped;
    for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
      std::string_view tag = child.name();
      if (tag == "failure") {
        if (!failure) {
          failure = child;
        } else {
          // GoogleTest writes one <failure> per failed assertion: keep them all in the body.
          std::string body(tc.body.empty() ? Text(failure, report_.arena) : tc.body);
          body += "\n";
          body += Text(child, report_.arena);
          tc.body = report_.arena.Keep(std::move(body));
        }
      } else if (tag == "error") {
        if (!error) error = child;
      } else if (tag == "skipped") {
        if (!skipped) skipped = child;
      } else if (tag == "system-out") {
        tc.system_out = Text(child, report_.arena);
      } else if (tag == "system-err") {
        tc.system_err = Text(child, report_.arena);
      } else if (tag == "properties") {
        for (pugi::xml_node p = child.child("property"); p; p = p.next_sibling("property")) {
          tc.properties.push_back({Attr(p, "name"), Attr(p, "value")});
        }
      } else if (tag == "flakyFailure" || tag == "flakyError") {
        tc.flaky.push_back(ReadAttempt(child, tag == "flakyError", report_.arena));
      } else if (tag == "rerunFailure" || tag == "rerunError") {
        tc.reruns.push_back(ReadAttempt(child, tag == "rerunError", report_.arena));
      }
    }
    pugi::xml_node result = failure ? failure : error ? error : skipped;
    if (result) {
      tc.verdict = failure ? Verdict::kFailed : error ? Verdict::kError : Verdict::kSkipped;
      tc.message = Attr(result, "message");
      tc.type = Attr(result, "type");
      if (tc.body.empty()) tc.body = Text(result, report_.arena);
    } else {
      // Dialects that mark a test not run without a <skipped> child, which GitLab and Jenkins
      // would count as passed:
      //   GoogleTest DISABLED_: status="notrun" result="suppressed";
      //   CTest DISABLED property: status="disabled"; CTest not run: status="notrun".
      std::string_view status = Attr(node, "status");
      std::string_view gtest_result = Attr(node, "result");
      if (status == "disabled") {
        tc.verdict = Verdict::kSkipped;
        tc.message = "disabled (CTest DISABLED property)";
      } else if (gtest_result == "suppressed" ||
                 (status == "notrun" && tc.name.substr(0, 9) == "DISABLED_")) {
        tc.verdict = Verdict::kSkipped;
        tc.message = "disabled (GoogleTest DISABLED_ test, not run)";
      } else if (status == "notrun" || gtest_result == "skipped") {
        tc.verdict = Verdict::kSkipped;
        tc.message = "not run";
      }
    }
    report_.cases.push_back(std::move(tc));
  }

  Report& report_;
  std::uint32_t source_;
};

void ParseBuffer(char* data, std::size_t size, const std::string& display, Report& report) {
  std::string_view bytes(data, size);
  std::size_t nonspace = bytes.find_first_not_of(" \t\r\n");
  if (nonspace == std::string_view::npos) throw UsageError(Fail(display, "is empty"));
  CheckProlog(bytes, display);
  std::size_t valid = ValidUtf8Prefix(bytes);
  if (valid != bytes.size()) {
    throw UsageError(Fail(display, "is not valid UTF-8 at byte " + std::to_string(valid) + " (" +
                                       Where(bytes, valid) +
                                       "); reports must be UTF-8 as GitLab and Jenkins read them"));
  }
  pugi::xml_document doc;
  // parse_default decodes the five predefined entities and character references only; custom
  // entities are never expanded (and refused above anyway). encoding_utf8: no guessing.
  pugi::xml_parse_result result = doc.load_buffer_inplace(
      data, size, pugi::parse_default & ~pugi::parse_wconv_attribute, pugi::encoding_utf8);
  if (!result) {
    std::size_t at = static_cast<std::size_t>(std::max<std::ptrdiff_t>(result.offset, 0));
    // In-situ parsing rewrites bytes before `at` but keeps its line breaks (parse_eol turns
    // CR LF into LF), so the line number holds; the column is close.
    std::string what =
        std::string("malformed XML at ") + Where(bytes, at) + ": " + result.description();
    if (at + 16 >= size) what += " (the file ends before its elements are closed: truncated?)";
    throw UsageError(Fail(display, what));
  }
  pugi::xml_node root = doc.document_element();
  std::string_view root_name = root.name();
  auto source = static_cast<std::uint32_t>(report.sources.size());
  report.sources.push_back(display);
  Walker walker(report, source);
  if (root_name == "testsuites") {
    walker.Suite(root, "");
  } else if (root_name == "testsuite") {
    // CTest and Surefire: a bare <testsuite> root.
    walker.Suite(root, "");
  } else {
    throw UsageError(Fail(display, "root element <" + std::string(root_name) +
                                       "> is not JUnit (expected <testsuites> or <testsuite>)"));
  }
}

}  // namespace

std::size_t ValidUtf8Prefix(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s + i, 8);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t min;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return n;
}

void ReadJUnitBytes(std::string_view bytes, const std::string& display, Report& report) {
  char* data = report.arena.NewBuffer(bytes.size() + 1);
  std::memcpy(data, bytes.data(), bytes.size());
  data[bytes.size()] = '\0';
  ParseBuffer(data, bytes.size(), display, report);
}

void ReadJUnitFile(const std::string& path, const std::string& display, Report& report) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UsageError(Fail(display, std::string("cannot open: ") + std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw UsageError(Fail(display, "is not a regular file"));
  }
  auto size = static_cast<std::size_t>(st.st_size);
  char* data = report.arena.NewBuffer(size + 1);
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, data + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data[got] = '\0';
  ParseBuffer(data, got, display, report);
}

}  // namespace stagehost::unit_test
