// Theory of operation: the testbed's response bodies. A response of n bytes
// for seed s is a pure function of (s, offset), so gateway, responders and
// client compute it independently and the client checks every byte without
// anything shared. Each 8-byte block is a SplitMix64 value of the seed and the
// block index, so a lost, duplicated or reordered segment never matches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace xo::testbed {

/** pattern_block() - the 8 pattern bytes of block @index for @seed, little-endian. */
inline std::uint64_t pattern_block(std::uint64_t seed, std::uint64_t index)
{
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/** fill_pattern() - write the pattern of @seed for bytes [@offset, @offset + out.size()). */
inline void fill_pattern(std::uint64_t seed, std::uint64_t offset, std::span<std::uint8_t> out)
{
    std::uint64_t block = pattern_block(seed, offset / 8);
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint64_t at = offset + i;
        if (at % 8 == 0)
            block = pattern_block(seed, at / 8);
        out[i] = static_cast<std::uint8_t>(block >> (8 * (at % 8)));
    }
}

} // namespace xo::testbed
