// The one clock and deadline type of every wait in XO-Ceph.
//
// Every blocking step (a control message, a handoff, a stalled client) is
// bounded by an absolute deadline on the monotonic clock rather than by a
// relative timeout, so that a step made of several waits cannot overrun its
// budget by restarting the timer at each wait.
#pragma once

#include <chrono>

namespace xo {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

/** deadline_in() - the deadline @d from now. */
inline Deadline deadline_in(Clock::duration d) { return Clock::now() + d; }

/** never - a deadline that does not pass. */
inline constexpr Deadline never = Deadline::max();

}  // namespace xo
