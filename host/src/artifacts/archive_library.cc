// LibArchive(): dlopen of libarchive.so.13 and lookup of the functions the archivers use.
#include "artifacts/archive_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace stagehost::artifacts {

Result<const ArchiveLibrary*> LibArchive() {
  static ArchiveLibrary library;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    void* handle = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      error = std::string("cannot load libarchive.so.13 (install libarchive13): ") +
              (why != nullptr ? why : "");
      return;
    }
    std::string missing;
#define STAGEHOST_LIBARCHIVE_FIND(name)                                                     \
  library.name = reinterpret_cast<decltype(library.name)>(dlsym(handle, "archive_" #name)); \
  if (library.name == nullptr)                                                              \
    missing += (missing.empty() ? "archive_" : ", archive_") + std::string(#name);
    STAGEHOST_LIBARCHIVE_FUNCTIONS(STAGEHOST_LIBARCHIVE_FIND)
#undef STAGEHOST_LIBARCHIVE_FIND
    if (!missing.empty()) error = "libarchive.so.13 lacks " + missing + " (3.6 or later is needed)";
  });
  if (!error.empty()) return Unavailable(error);
  return &library;
}

const ArchiveLibrary& Archive() {
  Result<const ArchiveLibrary*> library = LibArchive();
  if (!library.ok()) std::abort();
  return **library;
}

}  // namespace stagehost::artifacts
