#include "steering/flower_mode.h"

namespace xo::steering {

const char* to_string(FlowerMode mode)
{
    switch (mode) {
    case FlowerMode::off:
        return "off";
    case FlowerMode::software:
        return "software";
    case FlowerMode::hardware:
        return "hardware";
    case FlowerMode::automatic:
        return "auto";
    }
    return "?";
}

Result<FlowerMode> parse_flower_mode(std::string_view text)
{
    for (auto mode : {FlowerMode::off, FlowerMode::software, FlowerMode::hardware, FlowerMode::automatic})
        if (text == to_string(mode))
            return mode;
    return Error{"TC flower mode '" + std::string(text) + "': off, software, hardware or auto", EINVAL};
}

Result<FlowerMode> resolve_flower_mode(FlowerMode requested, const TcCapabilities& caps)
{
    if (requested == FlowerMode::off)
        return FlowerMode::off;
    if (!caps.rules()) {
        if (requested == FlowerMode::automatic)
            return FlowerMode::off;
        return Error{std::string("TC flower ") + to_string(requested) + ": the kernel lacks " + caps.missing(),
                     EOPNOTSUPP};
    }
    if (requested == FlowerMode::hardware && !caps.hw_tc_offload)
        return Error{"TC flower hardware: the NIC does not report hw-tc-offload", EOPNOTSUPP};
    if (requested == FlowerMode::automatic)
        return caps.hw_tc_offload ? FlowerMode::hardware : FlowerMode::software;
    return requested;
}

} // namespace xo::steering
