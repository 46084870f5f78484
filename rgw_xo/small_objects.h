// Which objects the gateway saw to be at most the offload threshold.
//
// Theory of operation: to offload a GET the gateway asks radosgw for the first
// T bytes only (request_head.h, offload_shaping.h). radosgw serves a ranged
// GET with one more RADOS round trip than a plain one (it prefetches the head
// object's data only when there is no Range), so on a small object, where
// nothing is offloaded anyway, the narrowing is pure cost (≈ 0.5 ms at p50 on
// the vstart cluster, docs/benchmarks.md). So each worker remembers the
// objects radosgw's answers showed to be no larger than T, and a GET of one
// of those goes to radosgw as the client sent it. The memory is a hint, never
// the truth: an object that grew meanwhile comes back whole (a 200, or the
// client's own range), the gateway still relays its first T bytes and offloads
// the rest (without the narrowing, radosgw's read-ahead beyond T is the
// price, once), and the object is forgotten. Every 2xx answer to a GET that
// the offload path may take says how large the object is, so the memory
// learns without extra requests. It is bounded: the least recently used name
// goes when a new one arrives at capacity. One per worker thread, no locks.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

#include "common/rgw/rgw_oid.h"

namespace xo::gw {

class SmallObjects {
public:
    /** SmallObjects() - remember at most @capacity names (0: remember none). */
    explicit SmallObjects(std::size_t capacity) : capacity_(capacity) {}

    /** contains() - whether @name was last seen no larger than the threshold (and marks it recently used). */
    bool contains(const rgw::ObjectName& name);

    /** remember() - @name was seen no larger than the threshold. */
    void remember(const rgw::ObjectName& name);

    /** forget() - @name was seen larger than the threshold (or not at all). */
    void forget(const rgw::ObjectName& name);

    std::size_t size() const { return index_.size(); }

private:
    static std::string key_of(const rgw::ObjectName& name);

    std::size_t capacity_;
    std::list<std::string> order_; ///< most recently used first
    std::unordered_map<std::string, std::list<std::string>::iterator> index_;
};

} // namespace xo::gw
