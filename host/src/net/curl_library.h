// CurlLibrary: libcurl, opened with dlopen on first use instead of linked into the binary.
#pragma once

// Plain prototypes (no type-checking macros), so the functions can be held as pointers.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "util/status.h"

namespace stagehost::net {

// Every stage run, worker and custom-executor call starts this binary; linking libcurl pulled ~30
// shared libraries (HTTP/2, SSH, LDAP, Kerberos …) into each start and tripled its cost (2.3 ms ->
// 8 ms for `stagehost version`). Only the commands that speak HTTP pay for it now, once.
struct CurlLibrary {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_reset) easy_reset;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_multi_init) multi_init;
  decltype(&curl_multi_cleanup) multi_cleanup;
  decltype(&curl_multi_add_handle) multi_add_handle;
  decltype(&curl_multi_remove_handle) multi_remove_handle;
  decltype(&curl_multi_perform) multi_perform;
  decltype(&curl_multi_poll) multi_poll;
  decltype(&curl_multi_info_read) multi_info_read;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
};

// Opens libcurl.so.4 and runs curl_global_init, once per process (thread-safe). Fails with
// kUnavailable naming what is missing; the library is never closed.
Result<const CurlLibrary*> Curl();

}  // namespace stagehost::net
