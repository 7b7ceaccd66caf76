// drivers.h -- the rollout driver interface and its two drivers: nginx (upstream file rewritten
// atomically, then a reload) and command (the user's argv templates, no shell).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.h"
#include "template.h"

namespace stagehost::deploy {

// A driver action failed: the target may be in between. The rollout then rolls back; a failure
// while rolling back is "failed to roll back".
class DriverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `vars` always holds version, previous_version, environment, slot/address (the candidate's),
// candidate_address, stable_address, digest, artifact_url; weight and stable_weight are set by
// the driver call that needs them.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string name() const = 0;
  // Installs the new version without moving traffic to it (idle slot, canary replica).
  virtual void Apply(const TemplateVars& vars) = 0;
  // Sends `weight` percent of traffic to the new version, the rest to the stable one.
  virtual void SetWeight(const TemplateVars& vars, int weight) = 0;
  // The new version takes all traffic and becomes the stable one.
  virtual void Promote(const TemplateVars& vars) = 0;
  // All traffic back to the previous version; the candidate gets none.
  virtual void Rollback(const TemplateVars& vars) = 0;
  // Whether SetWeight does anything (command driver without set_weight: no).
  virtual bool can_set_weight() const { return true; }
};

struct DriverEnv {
  std::vector<std::string> env;  // the job's environment, for child processes
  long command_timeout_ms = 300000;
  std::function<void(const std::string&)> log;
  std::function<bool()> cancelled;
  std::function<void(long ms)> sleep;
};

std::unique_ptr<Driver> MakeDriver(const RolloutConfig& config, const DriverEnv& env);

// The upstream block the nginx driver writes (exposed for tests).
std::string NginxUpstream(const std::string& name, const std::string& stable,
                          const std::string& candidate, int candidate_weight);

}  // namespace stagehost::deploy
