// Queue wait, build follow and artifact download loops over jenkins::Client.
#include "jenkins/remote_build.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <system_error>

namespace stagehost::jenkins {
namespace {

// Early 404s of a just-created item happen on some setups (silas/node-jenkins#105).
constexpr int kEarlyNotFoundPolls = 3;

enum class Wake { kTime, kCancel, kDeadline };

// Sleeps `delay`, or less when the cancel fd becomes readable or the deadline comes.
Wake Sleep(const FollowOptions& options, std::chrono::milliseconds delay) {
  auto now = std::chrono::steady_clock::now();
  bool capped = false;
  if (options.deadline) {
    if (now >= *options.deadline) return Wake::kDeadline;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*options.deadline - now);
    if (left < delay) {
      delay = left;
      capped = true;
    }
  }
  if (options.cancel_fd >= 0) {
    pollfd pfd{options.cancel_fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(delay.count()));
    if (ready > 0) return Wake::kCancel;
  } else {
    ::usleep(static_cast<useconds_t>(delay.count() * 1000));
  }
  return capped ? Wake::kDeadline : Wake::kTime;
}

std::optional<FollowEnd> Interrupted(Wake wake) {
  if (wake == Wake::kCancel) return FollowEnd::kLocalCancel;
  if (wake == Wake::kDeadline) return FollowEnd::kTimedOut;
  return std::nullopt;
}

std::chrono::milliseconds Grow(std::chrono::milliseconds delay, const FollowOptions& options) {
  return std::min(options.poll_max, std::chrono::milliseconds(delay.count() * 3 / 2));
}

void Say(const FollowOptions& options, const std::string& text) {
  if (options.message) options.message(text);
}

}  // namespace

Result<FollowResult> WaitForBuild(Client& client, const std::string& job_path,
                                  std::int64_t queue_id, const FollowOptions& options) {
  FollowResult result;
  std::chrono::milliseconds delay = options.poll;
  int not_found = 0;
  int lookups = 0;
  bool seen = false;
  std::string last_why;
  for (;;) {
    STAGEHOST_ASSIGN_OR_RETURN(std::optional<QueueItemState> item, client.GetQueueItem(queue_id));
    bool look_up = false;
    if (!item) {
      // Unknown: too early, or expired from the left-item cache (5 minutes after it left).
      look_up = seen || ++not_found > kEarlyNotFoundPolls;
    } else {
      seen = true;
      if (item->cancelled) {
        result.end = FollowEnd::kQueueCancelled;
        return result;
      }
      if (item->build_number) {
        result.number = *item->build_number;
        return result;
      }
      look_up = item->left;  // left without `executable` (api4jenkins#107)
      if (!item->why.empty() && item->why != last_why && !item->why.starts_with("In the quiet")) {
        Say(options, fmt::format("queue item {}: {}", queue_id, item->why));
        last_why = item->why;
      }
    }
    if (look_up) {
      STAGEHOST_ASSIGN_OR_RETURN(std::optional<std::int64_t> number,
                                 client.FindBuildByQueueId(job_path, queue_id));
      if (number) {
        result.number = *number;
        return result;
      }
      if (++lookups > 3) {
        return NotFound(fmt::format(
            "queue item {} is gone from the queue and no build of the job has queueId {}", queue_id,
            queue_id));
      }
    }
    if (auto end = Interrupted(Sleep(options, delay))) {
      result.end = *end;
      return result;
    }
    delay = Grow(delay, options);
  }
}

Result<FollowResult> FollowBuild(Client& client, const std::string& job_path, std::int64_t number,
                                 bool mirror_log, const FollowOptions& options) {
  FollowResult result;
  result.number = number;
  ProgressiveLog log;
  bool log_complete = false;
  bool finished = false;
  bool warned_regression = false;
  std::chrono::milliseconds delay = options.poll;
  for (;;) {
    bool flowed = false;
    if (mirror_log) {
      STAGEHOST_ASSIGN_OR_RETURN(TextChunk chunk,
                                 client.ProgressiveText(job_path, number, log.next_start()));
      ProgressiveLog::Step step = log.Accept(chunk);
      if (step.regressed && !warned_regression) {
        warned_regression = true;
        Say(options, fmt::format("console offset went back (asked from {}, server answered up to "
                                 "{}): ignoring the resent text",
                                 chunk.start, chunk.text_size ? *chunk.text_size : 0));
      }
      if (!step.output.empty()) {
        STAGEHOST_RETURN_IF_ERROR(options.write_log(step.output));
        flowed = true;
      }
      log_complete = step.complete;
    }
    if (!finished) {
      STAGEHOST_ASSIGN_OR_RETURN(result.build, client.GetBuild(job_path, number));
      finished = result.build.finished();
    }
    // Finished = building false and a result; the log may still grow after that (freestyle
    // post-production), so a mirror waits for an answer without X-More-Data too (§6).
    if (finished && (log_complete || !mirror_log)) break;
    if (auto end = Interrupted(Sleep(options, delay))) {
      result.end = *end;
      return result;
    }
    delay = flowed ? options.poll : Grow(delay, options);
  }
  if (!mirror_log) return result;
  std::string tail = log.Finish();
  if (!tail.empty()) STAGEHOST_RETURN_IF_ERROR(options.write_log(tail));
  // A server whose X-Text-Size runs ahead of its body skips a trailing partial line
  // (jenkins-api.md §7.1); consoleText of the finished build tells.
  auto check = std::make_unique<ConsoleTailCheck>(log);
  Status console = client.ConsoleText(
      job_path, number, [&](std::string_view bytes) { check->Feed(bytes); },
      [&] { check = std::make_unique<ConsoleTailCheck>(log); });
  if (!console.ok()) {
    Say(options, "could not check the mirrored log against consoleText: " + console.message());
    return result;
  }
  std::optional<std::string> missing = check->Finish();
  if (!missing) {
    Say(options, "the mirrored log differs from the build's consoleText; see " +
                     client.BuildUrl(job_path, number) + "console");
  } else if (!missing->empty()) {
    STAGEHOST_RETURN_IF_ERROR(options.write_log(*missing));
  }
  return result;
}

Status PrintLogOnce(Client& client, const std::string& job_path, std::int64_t number,
                    const FollowOptions& options) {
  ProgressiveLog log;
  for (;;) {
    std::uint64_t before = log.next_start();
    STAGEHOST_ASSIGN_OR_RETURN(TextChunk chunk,
                               client.ProgressiveText(job_path, number, log.next_start()));
    ProgressiveLog::Step step = log.Accept(chunk);
    if (!step.output.empty()) STAGEHOST_RETURN_IF_ERROR(options.write_log(step.output));
    // A running build answers at most 10 000 lines at a time: go on while the offset moves.
    if (step.complete || step.regressed || log.next_start() == before) break;
  }
  std::string tail = log.Finish();
  if (!tail.empty()) STAGEHOST_RETURN_IF_ERROR(options.write_log(tail));
  return Status::Ok();
}

Result<std::filesystem::path> ConfinedPath(const std::filesystem::path& dir,
                                           const std::string& relative) {
  std::filesystem::path rel(relative);
  if (relative.empty() || rel.is_absolute()) {
    return PermissionDenied("artifact path '" + relative + "' is not relative");
  }
  for (const auto& part : rel) {
    if (part == ".." || part == "." || part.empty()) {
      return PermissionDenied("artifact path '" + relative + "' would leave the directory");
    }
  }
  return dir / rel;
}

Status DownloadArtifacts(Client& client, const std::string& job_path, const BuildInfo& build,
                         const std::filesystem::path& dir, const FollowOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("creating " + dir.string() + ": " + ec.message());
  std::filesystem::path root = std::filesystem::canonical(dir, ec);
  if (ec) return Internal("resolving " + dir.string() + ": " + ec.message());
  for (const Artifact& artifact : build.artifacts) {
    STAGEHOST_ASSIGN_OR_RETURN(std::filesystem::path target,
                               ConfinedPath(root, artifact.relative_path));
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) return Internal("creating " + target.parent_path().string() + ": " + ec.message());
    // A symlink already inside DIR must not carry the download elsewhere.
    std::filesystem::path parent = std::filesystem::canonical(target.parent_path(), ec);
    auto [end, _] = std::mismatch(root.begin(), root.end(), parent.begin(), parent.end());
    if (ec || end != root.end()) {
      return PermissionDenied("artifact path '" + artifact.relative_path + "' leaves " +
                              root.string());
    }
    STAGEHOST_RETURN_IF_ERROR(
        client.DownloadArtifact(job_path, build.number, artifact.relative_path, target)
            .WithContext("artifact " + artifact.relative_path));
    Say(options, "artifact: " + target.string());
  }
  return Status::Ok();
}

}  // namespace stagehost::jenkins
