// FileTypeName: a file's type in words, for messages that refuse it.
#pragma once

#include <sys/stat.h>

#include <string>

namespace stagehost {

// "directory", "fifo", "symbolic link", ...; "regular file" for S_ISREG.
std::string FileTypeName(mode_t mode);

}  // namespace stagehost
