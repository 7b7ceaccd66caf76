// state.h -- the target's state file: the live version and slot, and the phase of the rollout in
// progress. Written atomically at every phase change, so a killed deploy leaves a record that
// the next run reads before touching anything (Helm's pending-* releases, made explicit).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace stagehost::deploy {

// Phases of one rollout. Terminal: kIdle (nothing ever ran), kDone, kRolledBack.
enum class Phase {
  kIdle,
  kApplying,
  kStep,
  kSwitching,
  kPromoting,
  kRollingBack,
  kDone,
  kRolledBack,
  kRollbackFailed
};

const char* PhaseName(Phase p);
Phase PhaseFromName(const std::string& name);  // throws std::invalid_argument
bool IsTerminal(Phase p);
// Whether the state machine allows from -> to (rollout.cc goes through Transition only).
bool TransitionAllowed(Phase from, Phase to);

struct DeployState {
  std::string environment;
  std::string live_version;  // empty: nothing deployed yet
  std::string live_slot;     // nginx blue-green: "blue" or "green"
  Phase phase = Phase::kIdle;
  std::string version, previous_version, candidate_slot;  // of the rollout in progress/last
  int weight = 0;
  int step = -1;
  std::string started_at, updated_at, message;
  long pid = 0;
  nlohmann::json history = nlohmann::json::array();  // {version, outcome, at}, newest last

  nlohmann::json ToJson() const;
  static DeployState FromJson(const nlohmann::json& j);
  // Moves to `to`; throws std::logic_error when the state machine forbids it.
  void Transition(Phase to);
};

// The state file plus an exclusive lock (flock on "<path>.lock") held for the whole run: two
// deploys to one target never interleave. The lock dies with the process, the state does not.
class StateFile {
 public:
  explicit StateFile(std::string path);
  ~StateFile();
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  // Throws sdk::InfraError when another deploy holds the lock.
  void Lock();
  DeployState Load(const std::string& environment) const;  // a fresh state when no file
  void Save(DeployState& state) const;                     // stamps updated_at
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace stagehost::deploy
