// normalise.h -- the rewrites that make a merged report read the same in GitLab and Jenkins:
// failure text for CTest, unique ids, quarantine marks, and GitLab's size/complexity limits.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "junit_model.h"

namespace stagehost::unit_test {

// Fills failures and errors that carry neither message nor text (CTest) from the tail of the
// test's own output: the message is its last non-empty line, the text the last `tail_bytes`.
void FillEmptyFailures(Report& report, std::size_t tail_bytes);

// Makes classname+name unique (GitLab keeps only the first of duplicates): the second "x" becomes
// "x (2)", and so on. Returns how many were renamed.
std::size_t MakeIdsUnique(Report& report);

// Shell-style wildcard match ('*' any run, '?' one character) of a quarantine pattern.
bool WildcardMatch(std::string_view pattern, std::string_view text);

// Marks failing cases whose Id() matches one of `patterns`. Returns how many were marked.
std::size_t MarkQuarantined(Report& report, const std::vector<std::string>& patterns);

struct Limits {
  std::size_t max_text_bytes = 65536;       // per system-out/system-err/failure text; 0 = none
  std::size_t max_report_bytes = 29000000;  // whole file; 0 = no limit
  std::size_t max_xml_objects = 240000;     // elements + attributes; 0 = no limit
};

// The per-text cap the writer applies, after ApplyLimits.
struct WritePlan {
  std::size_t text_cap = 0;  // 0 = no cap
  bool drop_properties = false;
};

// XML objects (elements + attributes) the writer emits for `tc` under `plan`.
std::size_t CountObjects(const TestCase& tc, const WritePlan& plan);
// Upper estimate of the bytes the writer emits for `tc` under `plan` (before escaping growth).
std::size_t EstimateBytes(const TestCase& tc, const WritePlan& plan);

// Chooses a plan within `limits`: first caps texts at max_text_bytes, then, if the report would
// still be too big or too complex, drops <properties>, lowers the text cap, and as a last resort
// leaves out passed (then skipped) cases from the end, never a failing or flaky one. Every cut
// is described in report.notes. `shrink` > 1 asks for a tighter byte budget (the writer's retry
// when escaping made the real file bigger than the estimate).
WritePlan ApplyLimits(Report& report, const Limits& limits, double shrink = 1.0);

// The last `max_bytes` of `text`, starting on a UTF-8 character boundary.
std::string_view Tail(std::string_view text, std::size_t max_bytes);

}  // namespace stagehost::unit_test
