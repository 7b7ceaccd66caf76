# stagehost_add_plugin(<target> SOURCES <src>... [OUTPUT_DIRECTORY <dir>] [STATIC_LIBSTDCXX])
#
# Builds a stage plugin: a MODULE library named <target>.so that exports only
# stagehost_plugin_entry (hidden visibility plus a version script), refuses undefined symbols at
# link time (-z defs) and binds every symbol at load (-z now). After the build, prints the file's
# SHA-256 for a host allow-list. STATIC_LIBSTDCXX links libstdc++ statically, which is safe because
# no C++ type crosses the plugin boundary.
function(stagehost_add_plugin target)
  # Resolved here, not at include time: callers live in other directories' scopes.
  set(_STAGEHOST_PLUGIN_MAP "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/stagehost_plugin.map")
  cmake_parse_arguments(PARSE_ARGV 1 arg "STATIC_LIBSTDCXX" "OUTPUT_DIRECTORY" "SOURCES")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "stagehost_add_plugin(${target}): SOURCES is required")
  endif()
  add_library(${target} MODULE ${arg_SOURCES})
  target_link_libraries(${target} PRIVATE stagehost::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    LINK_DEPENDS "${_STAGEHOST_PLUGIN_MAP}")
  if(arg_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${arg_OUTPUT_DIRECTORY}")
  elseif(DEFINED STAGEHOST_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${STAGEHOST_PLUGIN_OUTPUT_DIR}")
  endif()
  target_link_options(${target} PRIVATE
    "LINKER:--version-script=${_STAGEHOST_PLUGIN_MAP}" "LINKER:-z,defs" "LINKER:-z,now")
  if(arg_STATIC_LIBSTDCXX)
    target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
  endif()
  find_program(_STAGEHOST_SHA256SUM sha256sum)
  if(_STAGEHOST_SHA256SUM)
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND ${_STAGEHOST_SHA256SUM} $<TARGET_FILE:${target}>
      VERBATIM)
  endif()
endfunction()
