// pickle_scan.h -- reads pickle streams as opcodes, never unpickling, and reports the globals they
// import (GLOBAL, STACK_GLOBAL through the memo, INST, EXT*), in plain pickles, PyTorch zip
// checkpoints, joblib files and NumPy object arrays.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "findings.h"

namespace stagehost::security_scan {

struct PickleImport {
  std::string module;  // empty with resolved = false
  std::string name;
  std::string opcode;  // GLOBAL, STACK_GLOBAL, INST, EXT1/2/4
  std::size_t offset = 0;
  bool resolved = true;  // false: STACK_GLOBAL operands were not strings known statically
  bool called = false;   // a REDUCE/NEWOBJ/OBJ/INST/BUILD used it
};

struct PickleWalk {
  std::vector<PickleImport> imports;
  std::size_t opcodes = 0;
  std::size_t pickles = 0;  // consecutive pickles (torch legacy files hold several)
  bool truncated = false;   // ended inside an opcode or without STOP
  std::string error;        // unknown opcode / malformed argument, with its offset
  bool persistent_ids = false;
  bool started_with_proto = false;  // first byte is PROTO (protocol 2+)
};

// Walks every opcode of the pickle(s) in `data`, simulating the stack and memo enough to resolve
// STACK_GLOBAL operands. Never throws on bad input: problems go to `error`.
PickleWalk WalkPickle(std::string_view data);

struct ModelPolicy {
  // Extra safe globals, "module.name" or "module.*" (added to the built-in allow-list).
  std::vector<std::string> allow_globals;
  // Severity of a global that is neither allow-listed nor known dangerous.
  Severity unknown_global = Severity::kMedium;
};

// The severity of importing module.name, or kInfo when it is allow-listed. `reason` says why.
Severity ClassifyGlobal(std::string_view module, std::string_view name, const ModelPolicy& policy,
                        std::string* reason);

// True when the file should be read as a model: by extension (.pkl .pickle .joblib .pt .pth .bin
// .ckpt .npy .npz .dat .sav .model) or by content (pickle PROTO opcode, NumPy magic).
bool LooksLikeModelFile(std::string_view rel_path, std::string_view head);

// Scans one model file (plain pickle, zip/tar container of pickles, .npy) and appends findings.
void ScanModelFile(std::string_view rel_path, std::string_view data, const ModelPolicy& policy,
                   std::vector<Finding>& out);

}  // namespace stagehost::security_scan
