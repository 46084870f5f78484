// Theory of operation: a copy of every entry of one of our hash maps, for
// the sweeps. BPF_MAP_LOOKUP_BATCH walks the hash buckets with a cursor, so
// the data path may insert and delete meanwhile without disturbing the walk
// (BPF_MAP_GET_NEXT_KEY restarts from the first key whenever the current key
// was deleted, which under churn can loop). The copy is a moment's view:
// callers look an entry up again before they act on it.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "bpf/flow_maps.h"
#include "common/result.h"

namespace xo::bpf {

/** struct MapEntry - one key and its value as read. */
template <typename Value>
struct MapEntry {
    xo_flow_key key;
    Value value;
};

/**
 * snapshot() - every entry of the hash map @fd (keys are xo_flow_key).
 * Return: the entries, or an error (nothing partial).
 */
template <typename Value>
Result<std::vector<MapEntry<Value>>> snapshot(int fd)
{
    std::vector<MapEntry<Value>> out;
    std::uint32_t chunk = 1024; // grown when one bucket holds more (ENOSPC)
    std::vector<xo_flow_key> keys;
    std::vector<Value> values;
    std::uint32_t cursor = 0, next = 0; // bucket index: hash maps use a 32-bit cursor
    bool first = true;
    for (;;) {
        keys.resize(chunk);
        values.resize(chunk);
        std::uint32_t count = chunk;
        int err = bpf_map_lookup_batch(fd, first ? nullptr : &cursor, &next, keys.data(), values.data(), &count,
                                       nullptr);
        if (err && err != -ENOENT && err != -ENOSPC)
            return Error::from_errno("read map entries", -err);
        if (err == -ENOSPC && count == 0) {
            chunk *= 2;
            continue;
        }
        for (std::uint32_t i = 0; i < count; ++i)
            out.push_back({keys[i], values[i]});
        if (err == -ENOENT)
            return out;
        cursor = next;
        first = false;
    }
}

} // namespace xo::bpf
