// state.cc -- phase names, the transition table, and the atomically written state file.
#include "state.h"

#include <fcntl.h>
#include <stagehost/stage.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "attest.h"

namespace stagehost::deploy {

namespace {
struct PhaseInfo {
  Phase phase;
  const char* name;
};
constexpr PhaseInfo kPhases[] = {
    {Phase::kIdle, "idle"},
    {Phase::kApplying, "applying"},
    {Phase::kStep, "canary-step"},
    {Phase::kSwitching, "switching"},
    {Phase::kPromoting, "promoting"},
    {Phase::kRollingBack, "rolling-back"},
    {Phase::kDone, "done"},
    {Phase::kRolledBack, "rolled-back"},
    {Phase::kRollbackFailed, "rollback-failed"},
};
}  // namespace

const char* PhaseName(Phase p) {
  for (const PhaseInfo& i : kPhases) {
    if (i.phase == p) return i.name;
  }
  return "?";
}

Phase PhaseFromName(const std::string& name) {
  for (const PhaseInfo& i : kPhases) {
    if (name == i.name) return i.phase;
  }
  throw std::invalid_argument("unknown rollout phase \"" + name + "\"");
}

bool IsTerminal(Phase p) {
  return p == Phase::kIdle || p == Phase::kDone || p == Phase::kRolledBack;
}

bool TransitionAllowed(Phase from, Phase to) {
  // Anything unfinished may be rolled back, including a rollback that failed before.
  if (to == Phase::kRollingBack) return !IsTerminal(from);
  switch (from) {
    case Phase::kIdle:
    case Phase::kDone:
    case Phase::kRolledBack:
      return to == Phase::kApplying;
    case Phase::kApplying:
      return to == Phase::kStep || to == Phase::kSwitching;
    case Phase::kStep:
      return to == Phase::kStep || to == Phase::kPromoting;
    case Phase::kSwitching:
      return to == Phase::kPromoting;
    case Phase::kPromoting:
      return to == Phase::kDone;
    case Phase::kRollingBack:
      return to == Phase::kRolledBack || to == Phase::kRollbackFailed;
    case Phase::kRollbackFailed:
      return false;
  }
  return false;
}

void DeployState::Transition(Phase to) {
  if (!TransitionAllowed(phase, to)) {
    throw std::logic_error(std::string("rollout state machine: ") + PhaseName(phase) + " -> " +
                           PhaseName(to) + " is not allowed");
  }
  phase = to;
}

nlohmann::json DeployState::ToJson() const {
  return {{"environment", environment},
          {"live_version", live_version},
          {"live_slot", live_slot},
          {"phase", PhaseName(phase)},
          {"version", version},
          {"previous_version", previous_version},
          {"candidate_slot", candidate_slot},
          {"weight", weight},
          {"step", step},
          {"started_at", started_at},
          {"updated_at", updated_at},
          {"message", message},
          {"pid", pid},
          {"history", history}};
}

DeployState DeployState::FromJson(const nlohmann::json& j) {
  DeployState s;
  s.environment = j.value("environment", "");
  s.live_version = j.value("live_version", "");
  s.live_slot = j.value("live_slot", "");
  s.phase = PhaseFromName(j.value("phase", "idle"));
  s.version = j.value("version", "");
  s.previous_version = j.value("previous_version", "");
  s.candidate_slot = j.value("candidate_slot", "");
  s.weight = j.value("weight", 0);
  s.step = j.value("step", -1);
  s.started_at = j.value("started_at", "");
  s.updated_at = j.value("updated_at", "");
  s.message = j.value("message", "");
  s.pid = j.value("pid", 0L);
  if (j.contains("history") && j.at("history").is_array()) s.history = j.at("history");
  return s;
}

StateFile::StateFile(std::string path) : path_(std::move(path)) {}
StateFile::~StateFile() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void StateFile::Lock() {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  const std::string lock_path = path_ + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw sdk::InfraError("cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    throw sdk::InfraError("another deploy to this target is running (lock " + lock_path +
                          " is held); use a resource_group to serialise deploy jobs");
  }
}

DeployState StateFile::Load(const std::string& environment) const {
  std::ifstream in(path_);
  if (!in) {
    DeployState s;
    s.environment = environment;
    return s;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    DeployState s = DeployState::FromJson(nlohmann::json::parse(ss.str()));
    if (s.environment.empty()) s.environment = environment;
    return s;
  } catch (const std::exception& e) {
    throw sdk::BadConfig("state file " + path_ + " is unreadable (" + e.what() +
                         "); fix or remove it after checking the target by hand");
  }
}

void StateFile::Save(DeployState& state) const {
  state.updated_at = Rfc3339Now();
  const std::string text = state.ToJson().dump(2) + "\n";
  const std::string tmp = path_ + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw sdk::InfraError("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw sdk::InfraError("cannot write the state file " + path_ + ": " + std::strerror(errno));
  }
}

}  // namespace stagehost::deploy
