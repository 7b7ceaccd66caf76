// unit_test_bench.cc -- unit-test plugin: normalising a generated ~100 MB JUnit report with
// 120,000 cases (read + check + parse + normalise + write). Goal: >= 100 MB/s of input and peak
// RSS <= 2x the file. Baseline in the same run: Python's xml.etree.ElementTree.parse of the same
// file (/usr/bin/python3; parse only, no normalising or writing).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "junit_reader.h"
#include "junit_writer.h"
#include "normalise.h"

namespace {

namespace ut = stagehost::unit_test;

std::string g_dir;
std::string g_input;
std::size_t g_input_bytes = 0;
std::size_t g_cases = 0;

// Deterministic report: 120,000 cases in 400 classes; 90 % passed with ~600 bytes of
// system-out, 5 % failed with a ~2 KB trace (every 4th with an empty CTest-style message), 5 %
// skipped; escapes and non-ASCII text sprinkled in.
void Generate() {
  g_dir =
      std::filesystem::temp_directory_path() / ("stagehost-ut-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(g_dir);
  g_input = g_dir + "/big.xml";
  std::ofstream out(g_input, std::ios::binary);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bench\">\n";
  std::string line(75, 'o');
  std::string output;
  for (int i = 0; i < 7; ++i) output += line + " caf\xC3\xA9 &amp; &lt;ok&gt;\n";
  std::string trace;
  for (int i = 0; i < 24; ++i) {
    trace += "  at com.example.pkg.Class" + std::to_string(i) +
             ".method(File.java:" + std::to_string(100 + i) + ") &lt;x&gt;\n";
  }
  unsigned seed = 42;
  const int kCases = 120000;
  for (int s = 0; s < 400; ++s) {
    out << "  <testsuite name=\"suite" << s << "\" tests=\"300\">\n";
    for (int k = 0; k < kCases / 400; ++k) {
      seed = seed * 1103515245 + 12345;
      int kind = static_cast<int>((seed >> 16) % 100);
      out << "    <testcase classname=\"com.example.pkg.Class" << s << "\" name=\"test_" << k
          << "_param[" << (seed % 1000) << "]\" time=\"" << (seed % 5000) / 1000.0 << "\">";
      if (kind < 5) {
        out << "<failure message=\"" << (k % 4 == 0 ? "" : "expected 1 but was 2")
            << "\" type=\"AssertionError\"><![CDATA[" << trace << "]]></failure>";
      } else if (kind < 10) {
        out << "<skipped message=\"not on this platform\"/>";
      }
      out << "<system-out>" << output << "</system-out></testcase>\n";
      ++g_cases;
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  out.close();
  g_input_bytes = std::filesystem::file_size(g_input);
}

// One full normalisation, as the stage does it after the commands ran.
std::size_t Normalise(const ut::Limits& limits) {
  ut::Report report;
  ut::ReadJUnitFile(g_input, "big.xml", report);
  ut::FillEmptyFailures(report, 4096);
  ut::MakeIdsUnique(report);
  ut::WritePlan plan = ut::ApplyLimits(report, limits);
  return ut::WriteJUnit(report, plan, "bench", g_dir + "/out.xml").bytes;
}

ut::Limits NoLimits() {
  ut::Limits limits;
  limits.max_text_bytes = 0;
  limits.max_report_bytes = 0;
  limits.max_xml_objects = 0;
  return limits;
}

void BM_NormaliseGitlabLimits(benchmark::State& state) {
  std::size_t out = 0;
  for (auto _ : state) out = Normalise(ut::Limits{});
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_input_bytes));
  state.counters["out_MB"] = static_cast<double>(out) / 1e6;
}

void BM_NormaliseNoLimits(benchmark::State& state) {
  std::size_t out = 0;
  for (auto _ : state) out = Normalise(NoLimits());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_input_bytes));
  state.counters["out_MB"] = static_cast<double>(out) / 1e6;
}

// Runs `fn` in a child process; returns its peak RSS in KiB (wait4) and wall seconds.
template <typename Fn>
std::pair<long, double> InChild(Fn fn) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {usage.ru_maxrss, wall};
}

std::pair<long, double> PythonEtree() {
  return InChild([] {
    execl("/usr/bin/python3", "python3", "-c",
          "import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])", g_input.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  });
}

void BM_PythonEtreeParse(benchmark::State& state) {
  for (auto _ : state) state.SetIterationTime(PythonEtree().second);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_input_bytes));
}

BENCHMARK(BM_NormaliseGitlabLimits)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_NormaliseNoLimits)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_PythonEtreeParse)->Unit(benchmark::kMillisecond)->Iterations(2)->UseManualTime();

}  // namespace

int main(int argc, char** argv) {
  Generate();
  std::printf("input: %s, %.1f MB, %zu test cases\n", g_input.c_str(), g_input_bytes / 1e6,
              g_cases);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();

  // Peak RSS, each in a fresh child so nothing of the generator or the other runs counts.
  auto [rss_limits, wall_limits] = InChild([] { Normalise(ut::Limits{}); });
  auto [rss_free, wall_free] = InChild([] { Normalise(NoLimits()); });
  auto [rss_py, wall_py] = PythonEtree();
  double file_mb = g_input_bytes / 1e6;
  auto mb = [](long kib) { return kib * 1024.0 / 1e6; };
  std::printf("\npeak RSS (child process, wait4), file %.1f MB:\n", file_mb);
  std::printf("  stagehost normalise, GitLab limits: %7.1f MB (%.2fx file), %6.0f MB/s wall\n",
              mb(rss_limits), mb(rss_limits) / file_mb, file_mb / wall_limits);
  std::printf("  stagehost normalise, no limits:     %7.1f MB (%.2fx file), %6.0f MB/s wall\n",
              mb(rss_free), mb(rss_free) / file_mb, file_mb / wall_free);
  std::printf("  python3 xml.etree parse only:       %7.1f MB (%.2fx file), %6.0f MB/s wall\n",
              mb(rss_py), mb(rss_py) / file_mb, file_mb / wall_py);
  bool speed_ok = file_mb / wall_limits >= 100 && file_mb / wall_free >= 100;
  bool rss_ok = mb(rss_limits) <= 2 * file_mb && mb(rss_free) <= 2 * file_mb;
  std::printf("%s: >= 100 MB/s (%s), RSS <= 2x file (%s)\n", speed_ok && rss_ok ? "PASS" : "FAIL",
              speed_ok ? "yes" : "no", rss_ok ? "yes" : "no");
  std::filesystem::remove_all(g_dir);
  return speed_ok && rss_ok ? 0 : 1;
}
