// Curl(): dlopen of libcurl.so.4 and lookup of the functions HttpClient uses.
#include "net/curl_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace stagehost::net {
namespace {

template <typename Function>
bool Find(void* handle, const char* name, Function* out, std::string* missing) {
  *out = reinterpret_cast<Function>(dlsym(handle, name));
  if (*out == nullptr) *missing += std::string(missing->empty() ? "" : ", ") + name;
  return *out != nullptr;
}

}  // namespace

Result<const CurlLibrary*> Curl() {
  static CurlLibrary library;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    void* handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      error = std::string("cannot load libcurl.so.4 (install libcurl4): ") + (why ? why : "");
      return;
    }
    std::string missing;
    Find(handle, "curl_global_init", &library.global_init, &missing);
    Find(handle, "curl_easy_init", &library.easy_init, &missing);
    Find(handle, "curl_easy_cleanup", &library.easy_cleanup, &missing);
    Find(handle, "curl_easy_reset", &library.easy_reset, &missing);
    Find(handle, "curl_easy_setopt", &library.easy_setopt, &missing);
    Find(handle, "curl_easy_getinfo", &library.easy_getinfo, &missing);
    Find(handle, "curl_easy_strerror", &library.easy_strerror, &missing);
    Find(handle, "curl_multi_init", &library.multi_init, &missing);
    Find(handle, "curl_multi_cleanup", &library.multi_cleanup, &missing);
    Find(handle, "curl_multi_add_handle", &library.multi_add_handle, &missing);
    Find(handle, "curl_multi_remove_handle", &library.multi_remove_handle, &missing);
    Find(handle, "curl_multi_perform", &library.multi_perform, &missing);
    Find(handle, "curl_multi_poll", &library.multi_poll, &missing);
    Find(handle, "curl_multi_info_read", &library.multi_info_read, &missing);
    Find(handle, "curl_slist_append", &library.slist_append, &missing);
    Find(handle, "curl_slist_free_all", &library.slist_free_all, &missing);
    if (!missing.empty()) {
      error = "libcurl.so.4 lacks " + missing + " (libcurl 7.66 or later is needed)";
      return;
    }
    if (library.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) error = "curl_global_init failed";
  });
  if (!error.empty()) return Unavailable(error);
  return &library;
}

}  // namespace stagehost::net
