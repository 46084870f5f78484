// libFuzzer target for the handoff frame decoder (common/handoff/handoff_messages.h).
//
// Theory of operation: the decoder is the first code to touch bytes from the
// control channel, so any input must yield a message or an error value — no
// crash, no overread (AddressSanitizer), no allocation beyond the field
// limits (libFuzzer's -rss_limit_mb / -malloc_limit_mb). Whatever decodes
// must also encode back to exactly the input: the format has one spelling per
// message, so a difference is a decoder bug. The header decoder is exercised
// on its own as well, as the channel calls it before reading a payload.
//
// Build (clang only; a separate build directory):
//   CC=clang CXX=clang++ cmake -S . -B /tmp/xo-fuzz-build -DXO_FUZZ=ON
//   cmake --build /tmp/xo-fuzz-build --target xo_handoff_decode_fuzz
// Run (two minutes, corpus kept between runs, seeded with the regression
// inputs; docs/fuzzing.md records the long runs):
//   mkdir -p /tmp/xo-fuzz-corpus && cp qa/fuzz/regressions/handoff_decode_fuzz/* /tmp/xo-fuzz-corpus/
//   /tmp/xo-fuzz-build/qa/fuzz/xo_handoff_decode_fuzz -max_total_time=120 -malloc_limit_mb=64 /tmp/xo-fuzz-corpus
// A crash leaves crash-<sha1> in the current directory; replay it with
//   /tmp/xo-fuzz-build/qa/fuzz/xo_handoff_decode_fuzz crash-<sha1>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "common/handoff/handoff_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::span<const std::uint8_t> in(data, size);
    auto header = xo::handoff::decode_header(in);
    if (header && header->payload_length > xo::handoff::max_payload(header->type))
        std::abort(); // the header check let an oversized frame through

    auto message = xo::handoff::decode(in);
    if (!message)
        return 0;
    auto again = xo::handoff::encode(*message);
    if (!again || again->size() != size || !std::equal(again->begin(), again->end(), data))
        std::abort(); // decode accepted a frame that is not the encoding of what it returned
    return 0;
}
