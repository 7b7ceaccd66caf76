// runner_commands.cc -- argv rewriting and test listing for pytest, GoogleTest and CTest.
#include "runner_commands.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace stagehost::unit_test {
namespace {

std::string_view Basename(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Copies argv without the options in `with_value` (given as "--opt=value" or "--opt value") and
// `flags_prefixed` (any argument starting with one of them).
std::vector<std::string> Without(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& with_value,
                                 const std::vector<std::string>& prefixed) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (i > 0) {
      bool drop = false;
      for (const std::string& opt : with_value) {
        if (arg == opt) {
          ++i;  // and its value
          drop = true;
          break;
        }
        if (StartsWith(arg, opt + "=")) {
          drop = true;
          break;
        }
      }
      for (const std::string& prefix : prefixed) {
        if (StartsWith(arg, prefix)) drop = true;
      }
      if (drop) continue;
    }
    out.push_back(arg);
  }
  return out;
}

}  // namespace

RunnerKind ResolveRunner(std::string_view setting, const std::vector<std::string>& argv) {
  if (setting == "none") return RunnerKind::kNone;
  if (setting == "pytest") return RunnerKind::kPytest;
  if (setting == "gtest") return RunnerKind::kGtest;
  if (setting == "ctest") return RunnerKind::kCtest;
  if (argv.empty()) return RunnerKind::kNone;
  std::string_view program = Basename(argv[0]);
  if (StartsWith(program, "pytest") || StartsWith(program, "py.test")) return RunnerKind::kPytest;
  for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
    if (argv[i] == "-m" && argv[i + 1] == "pytest") return RunnerKind::kPytest;
  }
  if (program == "ctest") return RunnerKind::kCtest;
  for (const std::string& arg : argv) {
    if (StartsWith(arg, "--gtest_")) return RunnerKind::kGtest;
  }
  return RunnerKind::kNone;
}

const char* RunnerName(RunnerKind kind) {
  switch (kind) {
    case RunnerKind::kPytest:
      return "pytest";
    case RunnerKind::kGtest:
      return "gtest";
    case RunnerKind::kCtest:
      return "ctest";
    case RunnerKind::kNone:
      break;
  }
  return "none";
}

std::vector<std::string> ListArgv(RunnerKind kind, const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  switch (kind) {
    case RunnerKind::kPytest:
      // Exactly one -q lists node ids; -qq would list only files, -v adds noise.
      out.clear();
      for (const std::string& arg : Without(argv, {"--junitxml", "--junit-xml"}, {})) {
        bool verbosity = arg == "--quiet" || arg == "--verbose" ||
                         (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-' &&
                          arg.find_first_not_of("qv", 1) == std::string::npos);
        if (!verbosity || out.empty()) out.push_back(arg);
      }
      out.push_back("--collect-only");
      out.push_back("-q");
      break;
    case RunnerKind::kGtest:
      out = Without(argv, {}, {"--gtest_output", "--gtest_repeat", "--gtest_shuffle"});
      out.push_back("--gtest_list_tests");
      break;
    case RunnerKind::kCtest:
      out = Without(argv, {"--output-junit"}, {});
      out.push_back("--show-only=json-v1");
      break;
    case RunnerKind::kNone:
      break;
  }
  return out;
}

std::vector<std::string> ParseTestList(RunnerKind kind, std::string_view output) {
  std::vector<std::string> ids;
  auto lines = [&](auto fn) {
    std::size_t start = 0;
    while (start < output.size()) {
      std::size_t nl = output.find('\n', start);
      std::string_view line =
          output.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      fn(line);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  };
  if (kind == RunnerKind::kPytest) {
    // "path::name" lines, then a blank line and "N tests collected in Xs".
    lines([&](std::string_view line) {
      if (!line.empty() && line[0] != ' ' && line.find("::") != std::string_view::npos) {
        ids.emplace_back(line);
      }
    });
  } else if (kind == RunnerKind::kGtest) {
    // "Suite.\n  Name\n", comments after "  #" (type and value parameters).
    std::string suite;
    lines([&](std::string_view line) {
      std::size_t hash = line.find("  #");
      if (hash != std::string_view::npos) line = line.substr(0, hash);
      while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
      if (line.empty()) return;
      if (line[0] != ' ') {
        // "Suite." lines; anything else unindented (gtest_main's banner) is not a suite.
        suite = line.back() == '.' ? std::string(line) : std::string();
      } else if (!suite.empty()) {
        std::size_t first = line.find_first_not_of(' ');
        ids.push_back(suite + std::string(line.substr(first)));
      }
    });
  } else if (kind == RunnerKind::kCtest) {
    nlohmann::json doc = nlohmann::json::parse(output, nullptr, false);
    if (doc.is_discarded() || !doc.contains("tests") || !doc["tests"].is_array()) {
      throw UsageError("cannot read the output of ctest --show-only=json-v1");
    }
    for (const auto& test : doc["tests"]) {
      if (test.contains("name") && test["name"].is_string()) {
        ids.push_back(test["name"].get<std::string>());
      }
    }
  }
  return ids;
}

std::string CtestRegexEscape(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> SelectArgv(RunnerKind kind, const std::vector<std::string>& argv,
                                    const std::vector<std::string>& selected,
                                    const std::vector<std::string>& listed,
                                    const std::string& report_path) {
  std::vector<std::string> out;
  switch (kind) {
    case RunnerKind::kPytest: {
      out = report_path.empty() ? argv : Without(argv, {"--junitxml", "--junit-xml"}, {});
      if (!report_path.empty()) out.push_back("--junitxml=" + report_path);
      std::set<std::string_view> keep(selected.begin(), selected.end());
      for (const std::string& id : listed) {
        if (keep.count(id) == 0) out.push_back("--deselect=" + id);
      }
      break;
    }
    case RunnerKind::kGtest: {
      out = Without(argv, {},
                    report_path.empty()
                        ? std::vector<std::string>{"--gtest_filter"}
                        : std::vector<std::string>{"--gtest_filter", "--gtest_output"});
      std::string filter = "--gtest_filter=";
      for (std::size_t i = 0; i < selected.size(); ++i) {
        if (i > 0) filter += ':';
        filter += selected[i];
      }
      // An empty filter would run every test: select a name that cannot exist instead.
      if (selected.empty()) filter += "-*";
      out.push_back(filter);
      if (!report_path.empty()) out.push_back("--gtest_output=xml:" + report_path);
      break;
    }
    case RunnerKind::kCtest: {
      std::vector<std::string> drop = {"-R", "--tests-regex", "-I", "--tests-information"};
      if (!report_path.empty()) drop.push_back("--output-junit");
      out = Without(argv, drop, {});
      std::string regex = "^(";
      for (std::size_t i = 0; i < selected.size(); ++i) {
        if (i > 0) regex += '|';
        regex += CtestRegexEscape(selected[i]);
      }
      regex += ")$";
      out.push_back("-R");
      out.push_back(regex);
      if (!report_path.empty()) {
        out.push_back("--output-junit");
        out.push_back(report_path);
      }
      break;
    }
    case RunnerKind::kNone:
      out = argv;
      break;
  }
  return out;
}

std::string SelectionId(RunnerKind kind, const TestCase& tc, const std::string& cwd) {
  switch (kind) {
    case RunnerKind::kGtest:
      return std::string(tc.classname) + "." + std::string(tc.name);
    case RunnerKind::kCtest:
      return std::string(tc.name);
    case RunnerKind::kNone:
      return tc.Id();
    case RunnerKind::kPytest:
      break;
  }
  // pytest: classname is the dotted module path, then any classes; find where the module ends.
  std::vector<std::string> parts;
  std::string_view rest = tc.classname;
  while (true) {
    std::size_t dot = rest.find('.');
    parts.emplace_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  std::size_t module_parts = 0;
  std::string module_path;
  if (!tc.file.empty()) {
    module_path = std::string(tc.file);
    module_parts =
        static_cast<std::size_t>(std::count(module_path.begin(), module_path.end(), '/')) + 1;
  } else {
    for (std::size_t n = parts.size(); n > 0; --n) {
      std::string candidate;
      for (std::size_t i = 0; i < n; ++i) candidate += (i ? "/" : "") + parts[i];
      candidate += ".py";
      std::error_code ec;
      if (std::filesystem::is_regular_file(std::filesystem::path(cwd) / candidate, ec)) {
        module_path = candidate;
        module_parts = n;
        break;
      }
    }
    if (module_path.empty()) {
      for (std::size_t i = 0; i < parts.size(); ++i) module_path += (i ? "/" : "") + parts[i];
      module_path += ".py";
      module_parts = parts.size();
    }
  }
  std::string id = module_path;
  for (std::size_t i = std::min(module_parts, parts.size()); i < parts.size(); ++i) {
    id += "::" + parts[i];
  }
  id += "::" + std::string(tc.name);
  return id;
}

}  // namespace stagehost::unit_test
