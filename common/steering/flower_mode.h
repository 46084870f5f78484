// Theory of operation: the operator's choice for TC flower rules, as a word
// on the command line. off: eBPF alone. software: rules the kernel executes
// (skip_hw). hardware: rules only the NIC executes (skip_sw). auto: hardware
// where the NIC reports hw-tc-offload, software where only the kernel can,
// off where the kernel lacks a piece. What a choice becomes on one kernel and
// NIC is decided by the flower backend's probe (bpf/flower/tc_capabilities.h).
#pragma once

#include <string_view>

#include "common/result.h"

namespace xo::steering {

enum class FlowerMode { off, software, hardware, automatic };

/** to_string() - "off", "software", "hardware" or "auto". */
const char* to_string(FlowerMode mode);

/** parse_flower_mode() - the inverse of to_string(). */
Result<FlowerMode> parse_flower_mode(std::string_view text);

} // namespace xo::steering
