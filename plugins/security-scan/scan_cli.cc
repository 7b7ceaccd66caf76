// scan_cli.cc -- runs the security scan on a directory outside the host, for the benchmark:
//   stagehost_security_scan_cli DIR [CONFIG_JSON]   prints the result JSON (findings, stats).
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config.h"
#include "reports.h"
#include "scan.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: " << argv[0] << " DIR [CONFIG_JSON]\n";
    return 2;
  }
  try {
    nlohmann::json cfg =
        argc == 3 ? nlohmann::json::parse(std::string(argv[2])) : nlohmann::json::object();
    const auto config = stagehost::security_scan::ParseConfig(cfg);
    const auto result = stagehost::security_scan::RunScan(config, argv[1]);
    stagehost::security_scan::ReportContext ctx;
    ctx.tool_version = "cli";
    std::cout << stagehost::security_scan::ResultJson(result, config, ctx).dump(1) << "\n";
    return result.failing > 0 ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
