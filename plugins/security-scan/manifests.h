// manifests.h -- the dependency lists of Python and npm projects: requirements*.txt, poetry.lock,
// Pipfile.lock and package-lock.json (v1 to v3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "versions.h"

namespace stagehost::security_scan {

struct Dependency {
  std::string name;     // as written (normalised names are used only for matching)
  std::string version;  // exact pinned version
  bool direct = true;
  std::uint32_t line = 0;  // requirements files only
};

struct Manifest {
  std::string path;             // relative to the workspace
  std::string package_manager;  // pip, poetry, pipenv, npm
  Ecosystem ecosystem = Ecosystem::kOther;
  std::vector<Dependency> dependencies;
  std::vector<std::string> unpinned;  // requirement lines without an exact version: not matched
};

// The package manager of a manifest file name, or nullopt when the file is not one we read.
std::optional<std::string> ManifestKind(std::string_view rel_path);

// Parses a manifest. Throws std::runtime_error("<path>: <problem>") for a malformed file.
Manifest ParseManifest(std::string_view rel_path, std::string_view contents);

}  // namespace stagehost::security_scan
