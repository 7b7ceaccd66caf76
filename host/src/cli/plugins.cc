// `stagehost plugins list|inspect`: what plugins are installed, and what each declares.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/plugin_flags.h"
#include "cli/schema_markdown.h"
#include "job/stage_outcome.h"

namespace stagehost::cli {
namespace {

using nlohmann::json;

json InfoJson(const PluginInfo& info) {
  json j = info;
  j["config_schema"] = json::parse(info.config_schema_json, nullptr, false);
  return j;
}

int List(const PluginFlags& plugin_flags, bool as_json) {
  Result<CatalogOptions> options = MakeCatalogOptions(plugin_flags);
  if (!options.ok()) {
    fmt::print(stderr, "stagehost: {}\n", options.status().message());
    return kExitSystemFailure;
  }
  PluginCatalog catalog = PluginCatalog::Scan(*options);
  catalog.QuitAll();
  json listed = json::array();
  for (const CatalogEntry& entry : catalog.entries()) {
    if (entry.info) {
      json j = InfoJson(*entry.info);
      j.erase("config_schema");
      j["status"] = "ok";
      listed.push_back(j);
    } else {
      fmt::print(stderr, "stagehost: refused {}\n", entry.error.message());
      listed.push_back(
          {{"path", entry.path.string()}, {"status", "refused"}, {"error", entry.error.message()}});
    }
  }
  if (as_json) {
    fmt::print("{}\n", listed.dump(2));
    return 0;
  }
  fmt::print("{:<24} {:<10} {:<17} {:<4} {}\n", "NAME", "VERSION", "STAGE", "ABI", "FILE");
  for (const CatalogEntry& entry : catalog.entries()) {
    if (!entry.info) continue;
    const PluginInfo& info = *entry.info;
    fmt::print("{:<24} {:<10} {:<17} {}.{}  {}\n", info.name, info.version,
               StageTypeName(info.stage_type), info.abi_major, info.abi_minor, info.path);
  }
  if (catalog.entries().empty()) {
    std::string searched;
    for (const auto& dir : catalog.search_path()) searched += " " + dir.string();
    fmt::print(stderr, "stagehost: no plugins found (searched:{})\n", searched);
  }
  return 0;
}

enum class Format { kText, kJson, kMarkdown };

// The stage reference section of docs/stages.md: nothing that differs between machines or builds
// (no path, no digest), so the committed file can be compared with a fresh one.
void PrintMarkdown(const PluginInfo& info) {
  fmt::print("## {}\n\n{}\n\n", info.name, info.description);
  fmt::print("Stage type `{}`, plugin version {}, ABI {}.{}, {}, {}.\n\n",
             StageTypeName(info.stage_type), info.version, info.abi_major, info.abi_minor,
             info.vendor, info.license);
  // ordered: the table lists keys in the order the plugin's author wrote them.
  nlohmann::ordered_json schema =
      nlohmann::ordered_json::parse(info.config_schema_json, nullptr, false);
  fmt::print(
      "{}", SchemaMarkdownTable(schema.is_discarded() ? nlohmann::ordered_json::object() : schema));
}

int Inspect(const PluginFlags& plugin_flags, const std::string& name, Format format) {
  Result<CatalogOptions> options = MakeCatalogOptions(plugin_flags);
  if (!options.ok()) {
    fmt::print(stderr, "stagehost: {}\n", options.status().message());
    return kExitSystemFailure;
  }
  PluginCatalog catalog = PluginCatalog::Scan(*options);
  Result<CatalogEntry*> entry = catalog.Select(name, name);
  catalog.QuitAll();
  if (!entry.ok()) {
    fmt::print(stderr, "stagehost: {}\n", entry.status().message());
    return kExitSystemFailure;
  }
  const PluginInfo& info = *(*entry)->info;
  if (format == Format::kJson) {
    fmt::print("{}\n", InfoJson(info).dump(2));
    return 0;
  }
  if (format == Format::kMarkdown) {
    PrintMarkdown(info);
    return 0;
  }
  fmt::print(
      "name:         {}\nversion:      {}\nstage:        {}\ndescription:  {}\n"
      "vendor:       {}\nlicense:      {}\nabi:          {}.{} (host {}.{})\n"
      "cancel:       {}\nfile:         {}\nsha256:       {}\nconfig schema:\n{}\n",
      info.name, info.version, StageTypeName(info.stage_type), info.description, info.vendor,
      info.license, info.abi_major, info.abi_minor, STAGEHOST_ABI_MAJOR, STAGEHOST_ABI_MINOR,
      info.supports_request_cancel ? "request_cancel supported" : "flag and signals only",
      info.path, info.sha256, json::parse(info.config_schema_json, nullptr, false).dump(2));
  return 0;
}

}  // namespace

void RegisterPlugins(CLI::App& app, int& exit_code) {
  CLI::App* plugins = app.add_subcommand("plugins", "List and inspect installed stage plugins");
  plugins->require_subcommand(1);
  auto flags = std::make_shared<PluginFlags>();
  auto as_json = std::make_shared<bool>(false);
  auto name = std::make_shared<std::string>();

  CLI::App* list = plugins->add_subcommand(
      "list", "Load every plugin on the search path in a worker and list what each declares");
  list->add_flag("--json", *as_json, "Machine-readable output");
  AddPluginFlags(list, *flags);
  list->callback([flags, as_json, &exit_code] { exit_code = List(*flags, *as_json); });

  CLI::App* inspect = plugins->add_subcommand(
      "inspect", "Show one plugin's ABI, version, stage, config schema, file and digest");
  inspect->add_option("name", *name, "Plugin name")->required();
  auto as_markdown = std::make_shared<bool>(false);
  CLI::Option* json_flag = inspect->add_flag("--json", *as_json, "Machine-readable output");
  inspect
      ->add_flag("--markdown", *as_markdown,
                 "The config keys as a Markdown table (key, type, default, description, "
                 "required), as in docs/stages.md")
      ->excludes(json_flag);
  AddPluginFlags(inspect, *flags);
  inspect->callback([flags, as_json, as_markdown, name, &exit_code] {
    const Format format = *as_markdown ? Format::kMarkdown
                          : *as_json   ? Format::kJson
                                       : Format::kText;
    exit_code = Inspect(*flags, *name, format);
  });
}

}  // namespace stagehost::cli
