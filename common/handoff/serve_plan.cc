#include "common/handoff/serve_plan.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/wire.h"

namespace xo::handoff {

namespace {

constexpr std::uint8_t plan_version = 2; // 2: carries the TLS send state
constexpr std::size_t max_tls_state = 1024; // an encoded tls::DirectionState is ~120 bytes
constexpr std::size_t max_name = 4096; // RADOS names are far shorter; this bounds allocation
constexpr std::size_t mac_size = std::tuple_size_v<TicketMac>;
constexpr std::uint8_t ticket_version = 2; // 2: names its key
constexpr std::string_view ticket_label = "xo-ticket-v2";

/** ticket_mac() - HMAC-SHA256 over the label, the key id, the flow, the expiry and the payload. */
TicketMac ticket_mac(const PresharedKey& key, const FlowTuple& flow, std::span<const std::uint8_t> payload,
                     std::uint64_t expires_ms)
{
    WireWriter message;
    message.bytes(ticket_label);
    message.bytes(key.id());
    message.bytes(flow.client);
    message.bytes(flow.gateway);
    message.u64(expires_ms);
    message.bytes(payload);
    TicketMac mac{};
    unsigned int length = 0;
    auto secret = key.secret();
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), message.data().data(), message.data().size(),
         mac.data(), &length);
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
    out.bytes(plan.tls_tx);
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
    auto tls_tx = in.bytes(max_tls_state);
    if (!tls_tx)
        return with_context("serve plan: TLS state", tls_tx.error());
    plan.tls_tx = std::move(*tls_tx);
    if (!in.at_end())
        return Error{"serve plan: trailing bytes"};
    if (plan.pool.empty() || plan.oid.empty())
        return Error{"serve plan: no pool or oid"};
    if (plan.length == 0 || plan.first > plan.object_size || plan.length > plan.object_size - plan.first)
        return Error{"serve plan: range " + std::to_string(plan.first) + "+" + std::to_string(plan.length) +
                     " is empty or outside an object of " + std::to_string(plan.object_size) + " bytes"};
    return plan;
}

std::vector<std::uint8_t> make_ticket(const PresharedKey& key, const FlowTuple& flow,
                                      std::span<const std::uint8_t> payload,
                                      std::chrono::system_clock::time_point expires)
{
    WireWriter out;
    std::uint64_t expires_ms = to_ms(expires);
    out.u8(ticket_version);
    out.bytes(key.id());
    out.u64(expires_ms);
    out.raw(ticket_mac(key, flow, payload, expires_ms));
    return out.take();
}

Result<TicketMac> verify_ticket(const Keyring& keys, std::span<const std::uint8_t> ticket, const FlowTuple& flow,
                                std::span<const std::uint8_t> payload, std::chrono::system_clock::time_point now)
{
    WireReader in(ticket);
    auto version = in.u8();
    auto key_id = in.string(PresharedKey::max_id_size);
    auto expires_ms = in.u64();
    auto mac = in.raw(mac_size);
    if (!version || !key_id || !expires_ms || !mac || !in.at_end())
        return Error{"ticket: malformed"};
    if (*version != ticket_version)
        return Error{"ticket: unknown version " + std::to_string(*version)};
    const PresharedKey* key = keys.find(*key_id);
    if (!key)
        return Error{"ticket: signed with key \"" + *key_id + "\", which is not in the ticket key file"};
    auto expected = ticket_mac(*key, flow, payload, *expires_ms);
    if (CRYPTO_memcmp(expected.data(), mac->data(), mac_size) != 0)
        return Error{"ticket: does not authorize this plan on flow " + flow.client + " -> " + flow.gateway};
    auto now_ms = to_ms(now);
    auto skew_ms = static_cast<std::uint64_t>(std::chrono::milliseconds(ticket_clock_skew).count());
    auto lifetime_ms = static_cast<std::uint64_t>(std::chrono::milliseconds(ticket_lifetime).count());
    if (now_ms > *expires_ms + skew_ms)
        return Error{"ticket: expired " + std::to_string(now_ms - *expires_ms) + " ms ago"};
    if (*expires_ms > now_ms + lifetime_ms + skew_ms)
        return Error{"ticket: expires " + std::to_string(*expires_ms - now_ms) +
                     " ms from now, beyond its lifetime and the allowed clock skew"};
    return expected;
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

} // namespace xo::handoff
