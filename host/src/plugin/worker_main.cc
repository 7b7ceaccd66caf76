// Worker side of the host/worker protocol: plugin callbacks become frames to the host.
#include "plugin/worker_main.h"

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "plugin/library_loader.h"
#include "plugin/plugin_call.h"
#include "plugin/worker_protocol.h"

namespace stagehost {
namespace {

using nlohmann::json;

// Plugin strings need not be valid UTF-8; the frame must still be JSON, so bad bytes become U+FFFD.
std::string Dump(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Sends plugin callbacks to the host. Plugin threads call concurrently, so writes are serialised;
// artifact_emit waits for the host's verdict, which the reader thread delivers.
class ForwardingEvents : public RunEvents {
 public:
  explicit ForwardingEvents(int channel_fd) : fd_(channel_fd) {}

  Status Send(FrameType type, std::string_view payload) {
    std::lock_guard<std::mutex> lock(write_mutex_);
    return WriteFrame(fd_, type, payload);
  }

  void OnLog(uint32_t stream, uint32_t level, std::string_view bytes) override {
    std::string payload;
    while (!bytes.empty()) {
      size_t n = std::min(bytes.size(), kLogFrameChunk);
      payload.assign(1, static_cast<char>(stream));
      payload.push_back(static_cast<char>(level));
      payload.append(bytes.substr(0, n));
      if (!Send(FrameType::kLog, payload).ok()) return;  // host gone: the worker is about to die
      bytes.remove_prefix(n);
    }
  }

  Status OnArtifact(std::string_view rel_path, std::string_view name,
                    std::string_view media_type) override {
    uint64_t id;
    {
      std::lock_guard<std::mutex> lock(reply_mutex_);
      id = next_id_++;
    }
    json request{{"id", id},
                 {"rel_path", std::string(rel_path)},
                 {"name", std::string(name)},
                 {"media_type", std::string(media_type)}};
    STAGEHOST_RETURN_IF_ERROR(Send(FrameType::kArtifact, Dump(request)));
    std::unique_lock<std::mutex> lock(reply_mutex_);
    reply_ready_.wait(lock, [&] { return closed_ || replies_.count(id) > 0; });
    if (replies_.count(id) == 0) return Unavailable("host closed the channel");
    Status status = std::move(replies_[id]);
    replies_.erase(id);
    return status;
  }

  void OnProgress(uint32_t permille, std::string_view message) override {
    json body{{"permille", permille}, {"message", std::string(message)}};
    (void)Send(FrameType::kProgress, Dump(body));
  }

  void OnOutput(std::string_view key, std::string_view json_text) override {
    json body{{"key", std::string(key)}, {"json", std::string(json_text)}};
    (void)Send(FrameType::kOutput, Dump(body));
  }

  void DeliverReply(const json& reply) {
    std::lock_guard<std::mutex> lock(reply_mutex_);
    uint64_t id = reply.at("id").get<uint64_t>();
    replies_[id] = reply.at("ok").get<bool>()
                       ? Status::Ok()
                       : InvalidArgument(reply.value("message", "refused by the host"));
    reply_ready_.notify_all();
  }

  void Close() {
    std::lock_guard<std::mutex> lock(reply_mutex_);
    closed_ = true;
    reply_ready_.notify_all();
  }

 private:
  int fd_;
  std::mutex write_mutex_;
  std::mutex reply_mutex_;
  std::condition_variable reply_ready_;
  std::map<uint64_t, Status> replies_;
  uint64_t next_id_ = 1;
  bool closed_ = false;
};

// Reads host frames while the plugin runs: cancel requests and artifact verdicts.
void ReadHostFrames(int fd, ForwardingEvents* events, HostContext* context) {
  for (;;) {
    Result<Frame> frame = ReadFrame(fd);
    if (!frame.ok()) {
      // The host is gone or broke the protocol: stop the plugin; PR_SET_PDEATHSIG does the rest.
      events->Close();
      context->Cancel();
      return;
    }
    if (frame->type == FrameType::kCancel) {
      context->Cancel();
    } else if (frame->type == FrameType::kArtifactReply) {
      try {
        events->DeliverReply(json::parse(frame->payload));
      } catch (const std::exception&) {
        events->Close();
      }
    }
  }
}

}  // namespace

int RunWorker(const WorkerArgs& args) {
  // Processes the plugin starts must not inherit the channel or the plugin file.
  ::fcntl(args.channel_fd, F_SETFD, FD_CLOEXEC);
  ::fcntl(args.plugin_fd, F_SETFD, FD_CLOEXEC);
  ForwardingEvents events(args.channel_fd);
  json hello{{"protocol", kWorkerProtocolVersion}, {"pid", ::getpid()}};
  if (!events.Send(FrameType::kHello, hello.dump()).ok()) return 3;

  Result<LoadedPlugin> loaded =
      LoadPluginLibrary("/proc/self/fd/" + std::to_string(args.plugin_fd), args.display_path);
  json described;
  if (loaded.ok()) {
    described = {{"ok", true}, {"info", loaded->info}};
  } else {
    described = {{"ok", false}, {"message", loaded.status().message()}};
  }
  if (!events.Send(FrameType::kDescribed, Dump(described)).ok()) return 3;
  if (!loaded.ok()) return 0;

  Result<Frame> command = ReadFrame(args.channel_fd);
  if (!command.ok() || command->type != FrameType::kRun) return 0;  // kQuit, or the host is gone
  RunRequest request;
  try {
    request = json::parse(command->payload).get<RunRequest>();
  } catch (const std::exception& e) {
    json result{{"status", STAGEHOST_PLUGIN_ERROR},
                {"message", std::string("bad RUN frame: ") + e.what()},
                {"phase", "load"}};
    (void)events.Send(FrameType::kResult, result.dump());
    return 3;
  }

  HostContext context(&events);
  // Detached: it blocks in read() until the process exits, which is how it ends.
  std::thread(ReadHostFrames, args.channel_fd, &events, &context).detach();

  PluginVerdict verdict = CallPlugin(loaded->descriptor, request, context);
  // Output a plugin wrote with printf sits in stdio buffers; _exit() would drop it.
  std::fflush(nullptr);
  json result{{"status", verdict.status}, {"message", verdict.message}, {"phase", verdict.phase}};
  (void)events.Send(FrameType::kResult, Dump(result));
  return 0;
}

}  // namespace stagehost
