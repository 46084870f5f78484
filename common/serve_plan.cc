#include "serve_plan.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wire.h"

namespace xo {

namespace {

constexpr std::uint8_t plan_version = 1;
constexpr std::size_t max_name = 4096; // RADOS names are far shorter; this bounds allocation
constexpr std::size_t mac_size = 32;
constexpr std::string_view ticket_label = "xo-ticket-v1";

/** ticket_mac() - HMAC-SHA256 over the label, the flow, the expiry and the payload. */
std::vector<std::uint8_t> ticket_mac(std::span<const std::uint8_t> key, const FlowTuple& flow,
                                     std::span<const std::uint8_t> payload, std::uint64_t expires_ms)
{
    WireWriter message;
    message.bytes(ticket_label);
    message.bytes(flow.client);
    message.bytes(flow.gateway);
    message.u64(expires_ms);
    message.bytes(payload);
    std::vector<std::uint8_t> mac(mac_size);
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data().data(), message.data().size(),
         mac.data(), &length);
    mac.resize(length);
    return mac;
}

std::uint64_t to_ms(std::chrono::system_clock::time_point t)
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

} // namespace

std::vector<std::uint8_t> encode_plan(const ServePlan& plan)
{
    WireWriter out;
    out.u8(plan_version);
    out.bytes(plan.pool);
    out.bytes(plan.nspace);
    out.bytes(plan.oid);
    out.bytes(plan.locator);
    out.bytes(plan.etag);
    out.u64(plan.object_size);
    out.u64(plan.first);
    out.u64(plan.length);
    return out.take();
}

Result<ServePlan> decode_plan(std::span<const std::uint8_t> payload)
{
    WireReader in(payload);
    auto version = in.u8();
    if (!version)
        return with_context("serve plan", version.error());
    if (*version != plan_version)
        return Error{"serve plan: unknown version " + std::to_string(*version)};
    ServePlan plan;
    for (std::string* field : {&plan.pool, &plan.nspace, &plan.oid, &plan.locator, &plan.etag}) {
        auto s = in.string(max_name);
        if (!s)
            return with_context("serve plan", s.error());
        *field = std::move(*s);
    }
    for (std::uint64_t* field : {&plan.object_size, &plan.first, &plan.length}) {
        auto v = in.u64();
        if (!v)
            return with_context("serve plan", v.error());
        *field = *v;
    }
    if (!in.at_end())
        return Error{"serve plan: trailing bytes"};
    if (plan.pool.empty() || plan.oid.empty())
        return Error{"serve plan: no pool or oid"};
    if (plan.length == 0 || plan.first > plan.object_size || plan.length > plan.object_size - plan.first)
        return Error{"serve plan: range " + std::to_string(plan.first) + "+" + std::to_string(plan.length) +
                     " is empty or outside an object of " + std::to_string(plan.object_size) + " bytes"};
    return plan;
}

std::vector<std::uint8_t> make_ticket(std::span<const std::uint8_t> key, const FlowTuple& flow,
                                      std::span<const std::uint8_t> payload,
                                      std::chrono::system_clock::time_point expires)
{
    WireWriter out;
    std::uint64_t expires_ms = to_ms(expires);
    out.u64(expires_ms);
    out.raw(ticket_mac(key, flow, payload, expires_ms));
    return out.take();
}

Result<void> verify_ticket(std::span<const std::uint8_t> key, std::span<const std::uint8_t> ticket,
                           const FlowTuple& flow, std::span<const std::uint8_t> payload,
                           std::chrono::system_clock::time_point now)
{
    WireReader in(ticket);
    auto expires_ms = in.u64();
    auto mac = in.raw(mac_size);
    if (!expires_ms || !mac || !in.at_end())
        return Error{"ticket: malformed"};
    auto expected = ticket_mac(key, flow, payload, *expires_ms);
    if (expected.size() != mac->size() || CRYPTO_memcmp(expected.data(), mac->data(), mac->size()) != 0)
        return Error{"ticket: does not authorize this plan on flow " + flow.client + " -> " + flow.gateway};
    if (to_ms(now) > *expires_ms)
        return Error{"ticket: expired"};
    return {};
}

namespace {
constexpr std::string_view unserved_marker = "XO-UNSERVED";
} // namespace

std::vector<std::uint8_t> unserved_payload()
{
    return {unserved_marker.begin(), unserved_marker.end()};
}

bool is_unserved(std::span<const std::uint8_t> payload)
{
    return std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()) == unserved_marker;
}

} // namespace xo
