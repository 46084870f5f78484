// Theory of operation: tickets are single use. The responder remembers every
// ticket it accepted (by its MAC, which is unique per ticket: it covers the
// flow, the plan and the expiry) for as long as that ticket could still
// verify, and refuses the same ticket again as replayed — a second OFFER
// carrying it, from a confused gateway or from someone replaying a recorded
// OFFER over a channel they could open, is turned down before anything is
// read or restored.
//
// How long is "as long as it could verify": verify_ticket() accepts a ticket
// only while the responder's wall clock is within [expiry - lifetime - skew,
// expiry + skew], so a ticket can verify for at most ticket_lifetime + 2 ×
// skew after the responder first sees it (ticket_max_validity). Each entry is kept that long, measured on the monotonic clock, so
// it does not matter what the wall clock does meanwhile (only a backwards
// step of the responder's wall clock larger than the time since the entry
// aged out could make an old ticket verify again; NTP slews small offsets
// rather than stepping them).
//
// The cache is bounded: at `capacity` live entries a new ticket is refused
// (Seen::full) rather than an entry forgotten early, which would reopen the
// replay window; the gateway relays that GET. Entries that aged out are
// dropped before the count is checked. One io_context thread uses it: no lock.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <unordered_set>

namespace xo::rsp {

class ReplayCache {
public:
    using Clock = std::chrono::steady_clock;
    using Mac = std::array<std::uint8_t, 32>;
    enum class Seen { fresh, replayed, full };

    /** ReplayCache() - remember up to @capacity tickets, each for @keep. */
    ReplayCache(std::size_t capacity, Clock::duration keep) : capacity_(capacity), keep_(keep) {}

    /**
     * admit() - record the ticket with @mac, seen at @now.
     *
     * Return: fresh (recorded), replayed (already recorded and still within
     * its time) or full (not recorded: no room).
     */
    Seen admit(const Mac& mac, Clock::time_point now = Clock::now());

    /** size() - tickets remembered now (entries not yet aged out at the last admit()). */
    std::size_t size() const { return seen_.size(); }

private:
    struct MacHash {
        std::size_t operator()(const Mac& mac) const noexcept;
    };
    struct Entry {
        Clock::time_point until;
        Mac mac;
    };

    std::size_t capacity_;
    Clock::duration keep_;
    std::unordered_set<Mac, MacHash> seen_;
    std::deque<Entry> by_age_; ///< oldest first: every entry is kept for the same keep_
};

} // namespace xo::rsp
