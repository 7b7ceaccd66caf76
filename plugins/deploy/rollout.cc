// rollout.cc -- strategy execution and rollback (see rollout.h).
#include "rollout.h"

#include <unistd.h>

#include "attest.h"

namespace stagehost::deploy {

namespace {

class Rollout {
 public:
  Rollout(const Config& config, Driver& driver, StateFile& file, DeployState& state,
          const RolloutEnv& env)
      : config_(config), driver_(driver), file_(file), state_(state), env_(env) {}

  TemplateVars Vars() const {
    TemplateVars v = env_.vars;
    v["version"] = state_.version;
    v["previous_version"] = state_.previous_version;
    v["environment"] = config_.environment;
    const std::string stable_slot = state_.candidate_slot == "green" ? "blue" : "green";
    v["slot"] = state_.candidate_slot;
    v["candidate_address"] = Address(state_.candidate_slot);
    v["address"] = v["candidate_address"];
    v["stable_address"] = Address(stable_slot);
    return v;
  }

  void Enter(Phase phase, int weight = -1) {
    state_.Transition(phase);
    if (weight >= 0) state_.weight = weight;
    file_.Save(state_);
  }

  // Rolls back to the recorded previous version. Returns false when the driver failed.
  bool RollBack(RolloutResult& result, const std::string& reason) {
    env_.warn(
        "deploy: rolling back " + config_.environment + " to " +
        (state_.previous_version.empty() ? "(no previous version)" : state_.previous_version) +
        ": " + reason);
    state_.message = reason;
    Enter(Phase::kRollingBack);
    try {
      driver_.Rollback(Vars());
    } catch (const DriverError& e) {
      state_.message = reason + "; rollback failed: " + e.what();
      Enter(Phase::kRollbackFailed);
      result.outcome = RolloutOutcome::kRollbackFailed;
      result.reason = state_.message;
      History("rollback-failed");
      return false;
    }
    state_.weight = 0;
    Enter(Phase::kRolledBack);
    result.outcome = RolloutOutcome::kRolledBack;
    result.reason = reason;
    History("rolled-back");
    env_.info("deploy: rolled back; " + config_.environment + " serves " +
              (state_.live_version.empty() ? "its previous version" : state_.live_version) +
              " again");
    return true;
  }

  // Runs one analysis step; returns the breach reason or "".
  std::string Analyse(RolloutResult& result, const std::string& name, int weight,
                      const std::vector<HealthCheck>& health, bool with_metrics) {
    StepRecord step;
    step.name = name;
    step.weight = weight;
    step.started_at = Rfc3339Now();
    env_.info("deploy: analysis \"" + name + "\"");
    step.analysis =
        RunAnalysis(config_.analysis, health, with_metrics, Vars(), env_.sleep, env_.info);
    step.finished_at = Rfc3339Now();
    step.result = step.analysis.breached ? "breached" : "passed";
    for (const CheckSummary& c : step.analysis.checks) {
      if (!c.breached && !c.reason.empty())
        env_.warn("deploy: " + c.reason + " (tolerated: on_inconclusive is continue)");
    }
    result.steps.push_back(step);
    return step.analysis.breached ? name + ": " + step.analysis.reason : "";
  }

  void History(const std::string& outcome) {
    state_.history.push_back({{"version", state_.version},
                              {"previous_version", state_.previous_version},
                              {"outcome", outcome},
                              {"at", Rfc3339Now()}});
    while (state_.history.size() > 20) state_.history.erase(state_.history.begin());
    file_.Save(state_);
  }

  void Run(RolloutResult& result) {
    const RolloutConfig& ro = config_.rollout;
    try {
      env_.info("deploy: " + driver_.name() + " driver: applying " + state_.version);
      Enter(Phase::kApplying, 0);
      driver_.Apply(Vars());
      if (ro.strategy == Strategy::kCanary) {
        for (size_t i = 0; i < ro.steps.size(); ++i) {
          const Step& s = ro.steps[i];
          state_.step = static_cast<int>(i);
          Enter(Phase::kStep, s.weight);
          env_.info("deploy: canary step " + std::to_string(i + 1) + "/" +
                    std::to_string(ro.steps.size()) + ": " + std::to_string(s.weight) +
                    "% of traffic to " + state_.version);
          driver_.SetWeight(Vars(), s.weight);
          if (s.pause_ms > 0) env_.sleep(s.pause_ms);
          std::string breach = Analyse(result, "canary " + std::to_string(s.weight) + "%", s.weight,
                                       config_.analysis.health_checks, true);
          if (!breach.empty()) {
            RollBack(result, breach);
            return;
          }
        }
      } else {
        if (ro.strategy == Strategy::kBlueGreen && !ro.pre_switch_checks.empty()) {
          std::string breach = Analyse(result, "pre-switch", 0, ro.pre_switch_checks, false);
          if (!breach.empty()) {
            RollBack(result, breach + " (before any traffic moved)");
            return;
          }
        }
        Enter(Phase::kSwitching, 100);
        env_.info("deploy: switching all traffic to " + state_.version);
        if (driver_.can_set_weight()) driver_.SetWeight(Vars(), 100);
        std::string breach =
            Analyse(result, "after switch", 100, config_.analysis.health_checks, true);
        if (!breach.empty()) {
          RollBack(result, breach);
          return;
        }
      }
      Enter(Phase::kPromoting, 100);
      driver_.Promote(Vars());
    } catch (const DriverError& e) {
      RollBack(result, std::string("driver error: ") + e.what());
      return;
    }
    state_.live_version = state_.version;
    state_.live_slot = state_.candidate_slot;
    state_.message.clear();
    Enter(Phase::kDone, 100);
    History("promoted");
    result.outcome = RolloutOutcome::kPromoted;
    env_.info("deploy: " + state_.version + " promoted; " + config_.environment + " serves it");
  }

 private:
  std::string Address(const std::string& slot) const {
    if (config_.rollout.driver != DriverKind::kNginx) return "";
    return slot == "green" ? config_.rollout.nginx.green : config_.rollout.nginx.blue;
  }

  const Config& config_;
  Driver& driver_;
  StateFile& file_;
  DeployState& state_;
  const RolloutEnv& env_;
};

}  // namespace

RolloutResult RunRollout(const Config& config, const std::string& version, Driver& driver,
                         StateFile& state_file, const RolloutEnv& env) {
  RolloutResult result;
  state_file.Lock();
  DeployState state = state_file.Load(config.environment);
  Rollout rollout(config, driver, state_file, state, env);

  if (!IsTerminal(state.phase)) {
    const std::string what =
        "a rollout of " + state.version + " to " + config.environment + " (started " +
        state.started_at + " by pid " + std::to_string(state.pid) + ") stopped in phase " +
        PhaseName(state.phase) +
        (state.phase == Phase::kStep ? " at " + std::to_string(state.weight) + "%" : "");
    if (!config.rollback_unfinished) {
      result.outcome = RolloutOutcome::kRefused;
      result.reason =
          what +
          "; refusing to start over it. Check the target, then re-run with on_unfinished: "
          "rollback to restore " +
          (state.previous_version.empty() ? "the previous version" : state.previous_version) +
          " first (state file " + state_file.path() + ")";
      return result;
    }
    env.warn("deploy: " + what + "; rolling it back first (on_unfinished: rollback)");
    RolloutResult recovery;
    if (!rollout.RollBack(recovery, "recovering an interrupted rollout")) {
      return recovery;
    }
    result.recovered_unfinished = true;
  }

  state.previous_version = state.live_version;
  state.version = version;
  const std::string live_slot = state.live_slot.empty() ? "blue" : state.live_slot;
  state.live_slot = live_slot;
  state.candidate_slot = live_slot == "blue" ? "green" : "blue";
  state.started_at = Rfc3339Now();
  state.pid = static_cast<long>(::getpid());
  state.step = -1;
  state.message.clear();
  result.previous_version = state.previous_version;
  env.info("deploy: rollback target recorded: " +
           (state.previous_version.empty()
                ? std::string("none (first deploy to ") + config.environment + ")"
                : state.previous_version));
  if (state.live_version == version) {
    env.warn("deploy: " + version + " is already live on " + config.environment +
             "; rolling it out again");
  }
  rollout.Run(result);
  return result;
}

}  // namespace stagehost::deploy
