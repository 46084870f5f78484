// Theory of operation: handoff steps are timed for benchmarks (HandoffTimes,
// ReturnTimes, HostTimes). A Stopwatch reads the monotonic clock once per
// step boundary; lap() returns the time since the previous boundary, so a
// sequence of steps is timed without gaps or overlaps.
#pragma once

#include <utility>

#include "common/handoff/control_channel.h"

namespace xo::handoff {

class Stopwatch {
public:
    /** lap() - time since the previous lap (or construction). */
    Clock::duration lap()
    {
        auto now = Clock::now();
        return now - std::exchange(last_, now);
    }

private:
    Clock::time_point last_ = Clock::now();
};

} // namespace xo::handoff
