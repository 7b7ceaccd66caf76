// stagehost/sdk.h -- umbrella header: everything a stage plugin author needs.
#pragma once

#include <stagehost/plugin.h>
#include <stagehost/plugin_abi.h>
#include <stagehost/stage.h>
