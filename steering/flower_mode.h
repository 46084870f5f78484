// Theory of operation: the operator's choice for TC flower rules and what it
// becomes on this kernel and NIC. off: eBPF alone. software: rules the
// kernel executes (skip_hw). hardware: rules only the NIC executes
// (skip_sw). auto: hardware where the NIC reports hw-tc-offload, software
// where only the kernel can, off where the kernel lacks a piece (cls_flower,
// act_pedit, act_csum or act_mirred). An explicit software or hardware
// choice the kernel or NIC cannot honour is an error at start, not a silent
// downgrade.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "steering/tc_capabilities.h"

namespace xo::steering {

enum class FlowerMode { off, software, hardware, automatic };

/** to_string() - "off", "software", "hardware" or "auto". */
const char* to_string(FlowerMode mode);

/** parse_flower_mode() - the inverse of to_string(). */
Result<FlowerMode> parse_flower_mode(std::string_view text);

/** resolve_flower_mode() - off, software or hardware: what @requested means given @caps. */
Result<FlowerMode> resolve_flower_mode(FlowerMode requested, const TcCapabilities& caps);

} // namespace xo::steering
