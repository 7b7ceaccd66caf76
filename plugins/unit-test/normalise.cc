// normalise.cc -- CTest failure text, unique ids, quarantine, and GitLab's limits.
#include "normalise.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace stagehost::unit_test {

Counts CountCases(const std::vector<TestCase>& cases) {
  Counts c;
  c.tests = cases.size();
  for (const TestCase& tc : cases) {
    c.time += tc.time;
    if (tc.failing() && tc.quarantined) {
      ++c.quarantined;
      continue;
    }
    switch (tc.verdict) {
      case Verdict::kPassed:
        ++c.passed;
        if (!tc.flaky.empty()) ++c.flaky;
        break;
      case Verdict::kFailed:
        ++c.failed;
        break;
      case Verdict::kError:
        ++c.errors;
        break;
      case Verdict::kSkipped:
        ++c.skipped;
        break;
    }
  }
  return c;
}

std::string_view Tail(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t start = text.size() - max_bytes;
  // Never start inside a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
  return text.substr(start);
}

void FillEmptyFailures(Report& report, std::size_t tail_bytes) {
  for (TestCase& tc : report.cases) {
    if (!tc.failing() || !tc.message.empty() || !tc.body.empty()) continue;
    std::string_view output = tc.system_out.empty() ? tc.system_err : tc.system_out;
    std::string_view tail = Tail(output, tail_bytes);
    std::string_view trimmed = tail;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' ||
                                trimmed.back() == ' ' || trimmed.back() == '\t')) {
      trimmed.remove_suffix(1);
    }
    std::size_t nl = trimmed.find_last_of('\n');
    std::string_view last = nl == std::string_view::npos ? trimmed : trimmed.substr(nl + 1);
    if (last.size() > 200) last = Tail(last, 200);
    if (last.empty()) {
      tc.message = tc.verdict == Verdict::kFailed ? "failed (the report gives no message and the "
                                                    "test wrote no output)"
                                                  : "error (the report gives no message)";
      continue;
    }
    tc.message = last;
    tc.body = tail;
  }
}

std::size_t MakeIdsUnique(Report& report) {
  // Every id in the report is taken up front, so a renamed duplicate never collides with a real
  // test called "x (2)" further down.
  std::unordered_map<std::string, std::size_t> seen;
  seen.reserve(report.cases.size() * 2);
  for (const TestCase& tc : report.cases) seen.emplace(tc.Id(), 0);
  std::size_t renamed = 0;
  for (TestCase& tc : report.cases) {
    std::size_t& count = seen[tc.Id()];
    if (++count == 1) continue;
    for (std::size_t n = count;; ++n) {
      std::string candidate = std::string(tc.name) + " (" + std::to_string(n) + ")";
      auto [it, inserted] = seen.emplace(std::string(tc.classname) + "::" + candidate, 1);
      if (inserted) {
        tc.name = report.arena.Keep(std::move(candidate));
        ++renamed;
        break;
      }
    }
  }
  if (renamed > 0) {
    report.notes.push_back(std::to_string(renamed) +
                           " duplicate classname+name pairs renamed \"name (N)\" so GitLab keeps "
                           "every result");
  }
  return renamed;
}

bool WildcardMatch(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::size_t MarkQuarantined(Report& report, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return 0;
  std::size_t marked = 0;
  for (TestCase& tc : report.cases) {
    if (!tc.failing()) continue;
    std::string id = tc.Id();
    for (const std::string& pattern : patterns) {
      if (WildcardMatch(pattern, id)) {
        tc.quarantined = true;
        ++marked;
        break;
      }
    }
  }
  return marked;
}

namespace {

// Bytes the writer adds when it cuts a text ("[stagehost: ... cut ...]").
constexpr std::size_t kCutNoteBytes = 96;
// Fixed markup of a <testcase> (tags, attribute names, time) and of each result element.
constexpr std::size_t kCaseOverhead = 80;
constexpr std::size_t kElementOverhead = 48;

std::size_t Capped(std::string_view text, std::size_t cap) {
  if (cap == 0 || text.size() <= cap) return text.size();
  return cap + kCutNoteBytes;
}

std::size_t TextBytes(const TestCase& tc, std::size_t cap) {
  std::size_t n = Capped(tc.body, cap) + Capped(tc.system_out, cap) + Capped(tc.system_err, cap);
  for (const Attempt& a : tc.flaky) {
    n += Capped(a.body, cap) + Capped(a.system_out, cap) + Capped(a.system_err, cap);
  }
  for (const Attempt& a : tc.reruns) {
    n += Capped(a.body, cap) + Capped(a.system_out, cap) + Capped(a.system_err, cap);
  }
  return n;
}

std::size_t FixedBytes(const TestCase& tc, const WritePlan& plan) {
  std::size_t n = kCaseOverhead + tc.classname.size() + tc.name.size() + tc.file.size() +
                  tc.line.size() + std::min<std::size_t>(tc.message.size(), 4096) + tc.type.size();
  if (tc.failing() || tc.verdict == Verdict::kSkipped) n += kElementOverhead;
  if (!tc.system_out.empty()) n += kElementOverhead;
  if (!tc.system_err.empty()) n += kElementOverhead;
  if (!plan.drop_properties) {
    for (const Property& p : tc.properties) n += 32 + p.name.size() + p.value.size();
    if (!tc.properties.empty()) n += kElementOverhead;
  }
  for (const auto* list : {&tc.flaky, &tc.reruns}) {
    for (const Attempt& a : *list) {
      n += 3 * kElementOverhead + std::min<std::size_t>(a.message.size(), 4096) + a.type.size();
    }
  }
  return n;
}

}  // namespace

std::size_t CountObjects(const TestCase& tc, const WritePlan& plan) {
  std::size_t n = 1 + 2;                         // <testcase classname name>
  n += !tc.file.empty() + !tc.line.empty() + 1;  // file, line, time
  if (tc.failing() || tc.verdict == Verdict::kSkipped) {
    n += 1 + !tc.message.empty() + !tc.type.empty();
  }
  if (tc.quarantined) n += 1;  // the "quarantined" attribute
  n += !tc.system_out.empty() + !tc.system_err.empty();
  if (!plan.drop_properties && !tc.properties.empty()) n += 1 + 3 * tc.properties.size();
  for (const auto* list : {&tc.flaky, &tc.reruns}) {
    for (const Attempt& a : *list) {
      n += 1 + !a.message.empty() + !a.type.empty() + 1 + !a.system_out.empty() +
           !a.system_err.empty();
    }
  }
  return n;
}

std::size_t EstimateBytes(const TestCase& tc, const WritePlan& plan) {
  return FixedBytes(tc, plan) + TextBytes(tc, plan.text_cap);
}

namespace {

// Suites are grouped by name; each costs a <testsuite> with 7 attributes and ~200 bytes.
std::size_t SuiteCount(const std::vector<TestCase>& cases) {
  std::unordered_map<std::string_view, int> suites;
  for (const TestCase& tc : cases) suites.emplace(tc.suite, 0);
  return suites.size();
}

// Removes the cases marked for removal (source == UINT32_MAX).
void EraseMarked(std::vector<TestCase>& cases) {
  cases.erase(std::remove_if(cases.begin(), cases.end(),
                             [](const TestCase& tc) { return tc.source == UINT32_MAX; }),
              cases.end());
}

}  // namespace

WritePlan ApplyLimits(Report& report, const Limits& limits, double shrink) {
  WritePlan plan;
  plan.text_cap = limits.max_text_bytes;
  std::vector<TestCase>& cases = report.cases;

  if (limits.max_xml_objects > 0) {
    auto total_objects = [&](const WritePlan& p) {
      std::size_t n = 8 + 8 * SuiteCount(cases);
      for (const TestCase& tc : cases) n += CountObjects(tc, p);
      return n;
    };
    std::size_t objects = total_objects(plan);
    if (objects > limits.max_xml_objects) {
      plan.drop_properties = true;
      report.notes.push_back("per-test <properties> left out: the report would have " +
                             std::to_string(objects) + " XML objects, over the limit of " +
                             std::to_string(limits.max_xml_objects));
      objects = total_objects(plan);
    }
    if (objects > limits.max_xml_objects) {
      // Walk from the end, subtracting each dropped case's objects.
      std::size_t excess = objects - limits.max_xml_objects;
      std::size_t freed = 0;
      std::size_t total = cases.size();
      std::vector<std::size_t> cost(cases.size());
      for (std::size_t i = 0; i < cases.size(); ++i) cost[i] = CountObjects(cases[i], plan);
      std::size_t dropped = 0;
      for (Verdict victim : {Verdict::kPassed, Verdict::kSkipped}) {
        for (std::size_t i = cases.size(); i-- > 0 && freed < excess;) {
          TestCase& tc = cases[i];
          if (tc.source == UINT32_MAX || tc.verdict != victim || !tc.flaky.empty()) continue;
          tc.source = UINT32_MAX;
          freed += cost[i];
          ++dropped;
        }
      }
      EraseMarked(cases);
      report.notes.push_back(
          "CUT: " + std::to_string(dropped) + " of " + std::to_string(total) +
          " test cases (passed or skipped, from the end) left out of the report to stay under " +
          std::to_string(limits.max_xml_objects) +
          " XML objects (GitLab rejects reports over 250,000); every failure is kept and the "
          "stage's counts cover all tests");
    }
  }

  if (limits.max_report_bytes > 0) {
    auto budget = static_cast<std::size_t>(static_cast<double>(limits.max_report_bytes) / shrink);
    std::size_t fixed = 200 + 200 * SuiteCount(cases);
    for (const TestCase& tc : cases) fixed += FixedBytes(tc, plan);
    auto total_at = [&](std::size_t cap) {
      std::size_t n = fixed;
      for (const TestCase& tc : cases) n += TextBytes(tc, cap);
      return n;
    };
    if (total_at(plan.text_cap) > budget) {
      std::size_t lo = 256, hi = plan.text_cap == 0 ? budget : plan.text_cap;
      if (total_at(lo) <= budget) {
        while (lo < hi) {  // largest cap that fits
          std::size_t mid = lo + (hi - lo + 1) / 2;
          if (total_at(mid) <= budget) {
            lo = mid;
          } else {
            hi = mid - 1;
          }
        }
        plan.text_cap = lo;
        report.notes.push_back("CUT: outputs and failure texts capped at " + std::to_string(lo) +
                               " bytes each (the tail is kept) to keep the "
                               "report under " +
                               std::to_string(limits.max_report_bytes) +
                               " bytes (GitLab's limit is 30 MB per file)");
      } else {
        plan.text_cap = 256;
        std::size_t total = cases.size();
        std::size_t size = total_at(256);
        std::size_t freed = 0;
        std::size_t dropped = 0;
        for (Verdict victim : {Verdict::kPassed, Verdict::kSkipped}) {
          for (std::size_t i = cases.size(); i-- > 0 && size - freed > budget;) {
            TestCase& tc = cases[i];
            if (tc.source == UINT32_MAX || tc.verdict != victim || !tc.flaky.empty()) continue;
            freed += FixedBytes(tc, plan) + TextBytes(tc, 256);
            tc.source = UINT32_MAX;
            ++dropped;
          }
        }
        EraseMarked(cases);
        report.notes.push_back(
            "CUT: outputs capped at 256 bytes and " + std::to_string(dropped) + " of " +
            std::to_string(total) +
            " test cases (passed or skipped, from the end) left out to keep the report under " +
            std::to_string(limits.max_report_bytes) +
            " bytes (GitLab: 30 MB per file); every failure is kept and the stage's counts cover "
            "all tests");
      }
    }
  }
  if (plan.text_cap > 0) {
    std::size_t cut = 0;
    auto over = [&](std::string_view t) { cut += t.size() > plan.text_cap; };
    for (const TestCase& tc : cases) {
      over(tc.body), over(tc.system_out), over(tc.system_err);
      for (const auto* list : {&tc.flaky, &tc.reruns}) {
        for (const Attempt& a : *list) over(a.body), over(a.system_out), over(a.system_err);
      }
    }
    if (cut > 0) {
      report.notes.push_back(std::to_string(cut) + " outputs or failure texts longer than " +
                             std::to_string(plan.text_cap) +
                             " bytes cut, keeping their tail (each says how much was cut)");
    }
  }
  return plan;
}

}  // namespace stagehost::unit_test
