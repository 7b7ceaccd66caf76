// A plugin's config JSON Schema (draft-07), compiled once and used to validate stage configs.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "util/status.h"

namespace stagehost {

// Cheap to copy and move: copies share one immutable compiled schema, so a ConfigSchema can be
// validated against from several threads at once.
class ConfigSchema {
 public:
  // Parses `schema_json`, which must be a JSON object that valijson accepts as a draft-07 schema.
  // Every object schema (at any depth) that lists "properties" and has neither
  // "additionalProperties" nor "patternProperties" is closed first: unknown keys are errors.
  // Errors are InvalidArgument and name the reason.
  static Result<ConfigSchema> Parse(std::string_view schema_json);

  // OK, or InvalidConfig whose message lists every problem, one per line, each as
  // "<JSON pointer>: <what is wrong>" (e.g. `/: unknown key "colour"`).
  Status Validate(const nlohmann::json& config) const;

  // The schema as given to Parse (not closed).
  const nlohmann::json& json() const;

 private:
  struct Compiled;
  explicit ConfigSchema(std::shared_ptr<const Compiled> compiled)
      : compiled_(std::move(compiled)) {}

  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace stagehost
