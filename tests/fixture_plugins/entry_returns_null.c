/* entry_returns_null: the plugin declines every host ABI. Expected: "plugin declined host ABI 1.0".
 */
#include "fixture_common.h"

const stagehost_plugin_descriptor* stagehost_plugin_entry(uint16_t host_abi_major,
                                                          uint16_t host_abi_minor) {
  (void)host_abi_major;
  (void)host_abi_minor;
  return NULL;
}
