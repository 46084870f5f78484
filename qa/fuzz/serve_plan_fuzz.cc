// libFuzzer target for what a responder reads from an OFFER before it acts:
// the serve plan (common/handoff/serve_plan.h) and the ticket that authorizes it.
//
// Theory of operation: any input must decode to a plan or an error value —
// no crash, no overread (AddressSanitizer), no allocation beyond the field
// limits — and a plan that decodes must satisfy the range invariant the
// responder relies on and encode back to exactly the input (one spelling per
// plan). The same bytes, read as a ticket for a fixed flow and plan, must
// never verify: the fuzzer does not know the key.
//
// Build and run as handoff_decode_fuzz.cc describes, with the target
// xo_serve_plan_fuzz.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/handoff/serve_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::span<const std::uint8_t> in(data, size);
    static const auto keys = [] {
        std::vector<xo::handoff::PresharedKey> all;
        auto key = xo::handoff::PresharedKey::from_bytes("t1", std::vector<std::uint8_t>(32, 0x5a));
        all.push_back(std::move(*key));
        auto ring = xo::handoff::Keyring::of(std::move(all));
        return std::move(*ring);
    }();
    static const xo::handoff::FlowTuple flow{"198.18.0.100:40000", "198.18.0.2:80"};
    static const std::vector<std::uint8_t> payload =
        xo::handoff::encode_plan({"pool", "", "oid", "", "etag", 100, 0, 100, {}});
    if (xo::handoff::verify_ticket(keys, in, flow, payload))
        std::abort(); // a ticket verified without the key

    auto plan = xo::handoff::decode_plan(in);
    if (!plan)
        return 0;
    if (plan->length == 0 || plan->first + plan->length > plan->object_size || plan->first + plan->length < plan->first)
        std::abort(); // the decoder let a range outside the object through
    auto again = xo::handoff::encode_plan(*plan);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data))
        std::abort(); // decode accepted bytes that are not the encoding of what it returned
    return 0;
}
