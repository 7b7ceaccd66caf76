// publish_tool.cc -- a small command-line front end to the deploy publisher, for the publish
// benchmark (bench/deploy_publish_bench.sh): publish one file to an S3 or HTTP store.
//   stagehost_deploy_publish s3 ENDPOINT BUCKET FILE   (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
//   stagehost_deploy_publish http URL - FILE
// Knobs for the benchmark's breakdown (defaults = the plugin's defaults):
//   DEPLOY_BENCH_MULTIPART_MIB (S3 multipart threshold), DEPLOY_BENCH_READ_BACK=0 (HTTP read-back)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "publish.h"

int main(int argc, char** argv) {
  namespace dp = stagehost::deploy;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s s3|http ENDPOINT BUCKET|- FILE\n", argv[0]);
    return 2;
  }
  try {
    dp::PublishConfig config;
    const std::string kind = argv[1];
    if (kind == "s3") {
      config.store = dp::Store::kS3;
      config.s3.endpoint = argv[2];
      config.s3.bucket = argv[3];
      if (const char* mib = std::getenv("DEPLOY_BENCH_MULTIPART_MIB"))
        config.s3.multipart_threshold = std::strtoull(mib, nullptr, 10) << 20;
    } else {
      config.store = dp::Store::kHttp;
      config.http.url = argv[2];
      if (const char* rb = std::getenv("DEPLOY_BENCH_READ_BACK"))
        config.http.read_back = *rb != '0';
    }
    dp::Hooks hooks;
    hooks.info = [](const std::string& l) { std::fprintf(stderr, "%s\n", l.c_str()); };
    dp::EnvLookup env = [](const std::string& k) -> std::optional<std::string> {
      const char* v = std::getenv(k.c_str());
      if (!v) return std::nullopt;
      return std::string(v);
    };
    auto store = dp::MakeStore(config, ".", env, hooks);
    dp::LocalArtifact a;
    a.path = argv[4];
    a.file = "blob.bin";
    a.digest = dp::HashFile(a.path);
    dp::Publish(*store, config, "bench", "v" + a.digest.sha256.substr(0, 8), {a}, {}, hooks);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
