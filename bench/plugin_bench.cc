// Plugin load + negotiate, and worker spawn + load + empty run: the fixed cost of one stage.
//
// Needs the stagehost binary and the hello-stage SDK example (paths compiled in by CMake).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "plugin/file_trust.h"
#include "plugin/library_loader.h"
#include "plugin/worker_process.h"

namespace stagehost {
namespace {

namespace fs = std::filesystem;

class NullEvents : public RunEvents {
 public:
  void OnLog(uint32_t, uint32_t, std::string_view bytes) override { bytes_ += bytes.size(); }
  Status OnArtifact(std::string_view, std::string_view, std::string_view) override {
    return Status::Ok();
  }
  void OnProgress(uint32_t, std::string_view) override {}
  void OnOutput(std::string_view, std::string_view) override {}
  size_t bytes_ = 0;
};

// glibc maps a file once per process, so a real load needs a file it has not seen: each iteration
// loads its own copy of the plugin.
void BM_VerifyLoadNegotiate(benchmark::State& state) {
  fs::path dir = fs::temp_directory_path() / ("stagehost-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);
  std::vector<fs::path> copies;
  for (int i = 0; i < state.max_iterations; ++i) {
    fs::path copy = dir / ("hello_" + std::to_string(i) + ".so");
    fs::copy_file(STAGEHOST_BENCH_PLUGIN, copy, fs::copy_options::overwrite_existing);
    fs::permissions(copy, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
    copies.push_back(copy);
  }
  TrustPolicy policy;
  size_t i = 0;
  for (auto _ : state) {
    Result<VerifiedPlugin> verified = OpenAndVerifyPlugin(copies[i++], policy);
    if (!verified.ok()) {
      state.SkipWithError(verified.status().message().c_str());
      break;
    }
    Result<LoadedPlugin> loaded = LoadPluginLibrary(
        "/proc/self/fd/" + std::to_string(verified->fd.get()), verified->path.string());
    if (!loaded.ok()) {
      state.SkipWithError(loaded.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(loaded->descriptor);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_VerifyLoadNegotiate)->Iterations(200)->Unit(benchmark::kMicrosecond);

// What every stage pays before the plugin's own work: fork+exec of the worker, load and checks in
// the worker, DESCRIBE, RUN of a plugin that logs one line, RESULT, reaping.
void BM_WorkerSpawnLoadEmptyRun(benchmark::State& state) {
  TrustPolicy policy;
  WorkerOptions options;
  options.executable = STAGEHOST_BENCH_BINARY;
  RunRequest request;
  request.workspace_dir = fs::temp_directory_path().string();
  request.artifact_dir = fs::temp_directory_path().string();
  RunControl control;
  NullEvents events;
  for (auto _ : state) {
    Result<VerifiedPlugin> verified = OpenAndVerifyPlugin(STAGEHOST_BENCH_PLUGIN, policy);
    Result<std::unique_ptr<WorkerProcess>> worker = WorkerProcess::Spawn(*verified, options);
    if (!worker.ok()) {
      state.SkipWithError(worker.status().message().c_str());
      break;
    }
    Result<PluginInfo> info = (*worker)->AwaitDescription();
    if (!info.ok()) {
      state.SkipWithError(info.status().message().c_str());
      break;
    }
    PluginVerdict verdict = (*worker)->Run(request, events, control);
    if (verdict.status != STAGEHOST_OK) {
      state.SkipWithError(verdict.message.c_str());
      break;
    }
  }
}
BENCHMARK(BM_WorkerSpawnLoadEmptyRun)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->ComputeStatistics("p50", [](const std::vector<double>& v) {
      std::vector<double> sorted = v;
      std::sort(sorted.begin(), sorted.end());
      return sorted[sorted.size() / 2];
    });

}  // namespace
}  // namespace stagehost

BENCHMARK_MAIN();
