// planted_tree.h -- test fixture: a generated project tree with synthetic secrets of every kind at
// known lines, plus decoys that must not be reported. Secrets are assembled at run time from
// pieces and a seeded generator, so no secret-shaped literal exists in the repository.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stagehost::security_scan::testing {

struct Planted {
  std::string rule;  // the built-in rule expected to report it
  std::string path;  // relative, '/' separated
  std::uint32_t line;
  std::string value;  // the secret (never printed by the tests)
};

struct PlantedTree {
  std::vector<Planted> secrets;
  // Decoy locations (path:line) that look like secrets but are not (documentation keys, hashes,
  // UUIDs, placeholders, lorem ipsum): none may be reported.
  std::vector<std::string> decoys;
};

// Writes the tree under `dir` (which must exist) and returns what was planted.
PlantedTree WritePlantedTree(const std::string& dir);

// A random string over `alphabet`, deterministic for a seed.
std::string RandomString(std::uint64_t& state, std::size_t n, const std::string& alphabet);

}  // namespace stagehost::security_scan::testing
