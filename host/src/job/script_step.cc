// RunScriptStep: writes the step's bash script and runs it in its own process group.
#include "job/script_step.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace stagehost {

std::string BashAnsiQuote(std::string_view text) {
  std::string out = "$'";
  for (unsigned char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case 0x1b:
        out += "\\e";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "'";
  return out;
}

Result<ScriptResult> RunScriptStep(const ScriptStep& step,
                                   const std::function<void(std::string_view)>& on_output) {
  std::string script = "set -eo pipefail\nset +o noclobber\n";
  for (const std::string& line : step.lines) {
    script += "printf '%s\\n' " + BashAnsiQuote("\x1b[32;1m$ " + line + "\x1b[0;m") + "\n";
    script += line + "\n";
  }
  std::filesystem::path file = step.temp_dir / ("step_" + step.name + ".sh");
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0700);
  if (fd < 0) return ErrnoStatus("writing " + file.string(), errno);
  ssize_t written = ::write(fd, script.data(), script.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(script.size())) {
    return Internal("writing " + file.string() + " failed");
  }

  ChildOptions child;
  child.argv = {"bash", "--noprofile", "--norc", file.string()};
  child.env = step.env;
  child.cwd = step.cwd.string();
  STAGEHOST_ASSIGN_OR_RETURN(ChildExit exit,
                             RunChild(child, on_output, step.cancel_fd, step.kill_grace));
  ScriptResult result;
  result.exit_code = ShellExitCode(exit.wait_status);
  result.stopped = exit.stopped;
  return result;
}

}  // namespace stagehost
