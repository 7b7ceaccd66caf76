// glob.h -- workspace-relative globs ('*', '?', '**' across directories) and the file walk that
// finds the reports matching them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stagehost::unit_test {

// True when `path` ('/'-separated, relative) matches `pattern`. '*' and '?' stay within one
// segment; a "**" segment matches zero or more segments.
bool GlobMatch(std::string_view pattern, std::string_view path);

// Checks a pattern from the config; returns an error message naming `where`, or "" when usable.
std::string CheckGlob(std::string_view pattern, const std::string& where);

// Regular files under `root` (symlinks not followed) matching any of `include` and none of
// `exclude`, as sorted relative paths. Directories covered by an exclude "<dir>/**" are skipped.
std::vector<std::string> FindFiles(const std::string& root, const std::vector<std::string>& include,
                                   const std::vector<std::string>& exclude);

}  // namespace stagehost::unit_test
