#include "osd_xo/ticket_replay.h"

#include <cstring>

namespace xo::rsp {

std::size_t ReplayCache::MacHash::operator()(const Mac& mac) const noexcept
{
    // An HMAC output is uniformly distributed to anyone without the key.
    std::size_t h = 0;
    std::memcpy(&h, mac.data(), sizeof h);
    return h;
}

ReplayCache::Seen ReplayCache::admit(const Mac& mac, Clock::time_point now)
{
    while (!by_age_.empty() && by_age_.front().until <= now) {
        seen_.erase(by_age_.front().mac);
        by_age_.pop_front();
    }
    if (seen_.contains(mac))
        return Seen::replayed;
    if (seen_.size() >= capacity_)
        return Seen::full;
    seen_.insert(mac);
    by_age_.push_back({now + keep_, mac});
    return Seen::fresh;
}

} // namespace xo::rsp
