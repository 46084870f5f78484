#include "common/steering/flower_mode.h"

#include <string>

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

} // namespace xo::steering
