// Tickets (common/handoff/serve_plan.h) and the responder's replay cache
// (osd_xo/ticket_replay.h): a ticket verifies only for everything it binds —
// the flow's 4-tuple, the object's identity, the byte range, the ETag —
// within its time and the allowed clock skew, under a key of the ticket key
// file it names, across a rotation of that file; and it is used once.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>

#include "common/handoff/serve_plan.h"
#include "osd_xo/ticket_replay.h"

namespace {

using namespace xo;
using namespace std::chrono_literals;

handoff::ServePlan sample_plan()
{
    handoff::ServePlan p;
    p.pool = "default.rgw.buckets.data";
    p.nspace = "";
    p.oid = "7d0a2c3e.4155.1_photos/cat.jpg";
    p.locator = "";
    p.etag = "0123456789abcdef0123456789abcdef";
    p.object_size = 10 << 20;
    p.first = 1 << 20;
    p.length = p.object_size - p.first;
    return p;
}

const handoff::FlowTuple kFlow{"198.18.0.100:40000", "198.18.0.2:80"};

handoff::PresharedKey key(const char* id, std::uint8_t fill)
{
    auto k = handoff::PresharedKey::from_bytes(id, std::vector<std::uint8_t>(handoff::PresharedKey::key_size, fill));
    EXPECT_TRUE(k.ok());
    return std::move(*k);
}

handoff::Keyring ring(std::vector<std::pair<const char*, std::uint8_t>> keys)
{
    std::vector<handoff::PresharedKey> all;
    for (auto [id, fill] : keys)
        all.push_back(key(id, fill));
    auto r = handoff::Keyring::of(std::move(all));
    EXPECT_TRUE(r.ok());
    return std::move(*r);
}

TEST(Ticket, VerifiesForItsFlowAndPlanWithinItsTime)
{
    auto keys = ring({{"t1", 7}});
    auto payload = handoff::encode_plan(sample_plan());
    auto now = std::chrono::system_clock::now();
    auto ticket = handoff::make_ticket(keys.current(), kFlow, payload, now + handoff::ticket_lifetime);
    auto mac = handoff::verify_ticket(keys, ticket, kFlow, payload, now);
    ASSERT_TRUE(mac.ok()) << mac.error().message;
    // The MAC identifies the ticket: another expiry, another MAC.
    auto later = handoff::make_ticket(keys.current(), kFlow, payload, now + handoff::ticket_lifetime + 1ms);
    auto other_mac = handoff::verify_ticket(keys, later, kFlow, payload, now);
    ASSERT_TRUE(other_mac.ok());
    EXPECT_NE(*mac, *other_mac);
}

TEST(Ticket, ExpiryAllowsTheClockSkewAndNoMore)
{
    auto keys = ring({{"t1", 7}});
    auto payload = handoff::encode_plan(sample_plan());
    auto now = std::chrono::system_clock::now();
    auto expires = now + handoff::ticket_lifetime;
    auto ticket = handoff::make_ticket(keys.current(), kFlow, payload, expires);
    // A responder clock ahead of the gateway's by less than the skew still accepts it.
    EXPECT_TRUE(handoff::verify_ticket(keys, ticket, kFlow, payload, expires + handoff::ticket_clock_skew - 1ms).ok());
    auto expired = handoff::verify_ticket(keys, ticket, kFlow, payload, expires + handoff::ticket_clock_skew + 1ms);
    ASSERT_FALSE(expired.ok());
    EXPECT_NE(expired.error().message.find("expired"), std::string::npos) << expired.error().message;
    // A responder clock behind by less than the skew accepts it too...
    EXPECT_TRUE(handoff::verify_ticket(keys, ticket, kFlow, payload, now - handoff::ticket_clock_skew + 1ms).ok());
    // ...but a ticket meant to live longer than a ticket lives is refused.
    auto too_long = handoff::verify_ticket(keys, ticket, kFlow, payload, now - handoff::ticket_clock_skew - 1ms);
    ASSERT_FALSE(too_long.ok());
    EXPECT_NE(too_long.error().message.find("beyond its lifetime"), std::string::npos) << too_long.error().message;
}

/** A field a ticket binds, and a change of it. */
struct Binding {
    const char* name;
    std::function<void(handoff::ServePlan&, handoff::FlowTuple&)> change;
};

void PrintTo(const Binding& b, std::ostream* os)
{
    *os << b.name;
}

class TicketBinding : public ::testing::TestWithParam<Binding> {};

TEST_P(TicketBinding, ChangingItFailsVerification)
{
    auto keys = ring({{"t1", 7}});
    auto plan = sample_plan();
    auto now = std::chrono::system_clock::now();
    auto ticket = handoff::make_ticket(keys.current(), kFlow, handoff::encode_plan(plan), now + handoff::ticket_lifetime);
    ASSERT_TRUE(handoff::verify_ticket(keys, ticket, kFlow, handoff::encode_plan(plan), now).ok());
    handoff::FlowTuple flow = kFlow;
    GetParam().change(plan, flow);
    auto payload = handoff::encode_plan(plan);
    ASSERT_TRUE(handoff::decode_plan(payload).ok()) << "the changed plan must itself be valid";
    auto r = handoff::verify_ticket(keys, ticket, flow, payload, now);
    ASSERT_FALSE(r.ok()) << GetParam().name << " is not bound";
    EXPECT_NE(r.error().message.find("does not authorize"), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    EveryField, TicketBinding,
    ::testing::Values(
        Binding{"client_address", [](handoff::ServePlan&, handoff::FlowTuple& f) { f.client = "198.18.0.101:40000"; }},
        Binding{"client_port", [](handoff::ServePlan&, handoff::FlowTuple& f) { f.client = "198.18.0.100:40001"; }},
        Binding{"gateway_address", [](handoff::ServePlan&, handoff::FlowTuple& f) { f.gateway = "198.18.0.3:80"; }},
        Binding{"gateway_port", [](handoff::ServePlan&, handoff::FlowTuple& f) { f.gateway = "198.18.0.2:8080"; }},
        Binding{"pool", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.pool = "other.rgw.buckets.data"; }},
        Binding{"namespace", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.nspace = "ns"; }},
        Binding{"oid", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.oid = "7d0a2c3e.4155.1_photos/dog.jpg"; }},
        Binding{"bucket_marker", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.oid = "7d0a2c3e.4155.2_photos/cat.jpg"; }},
        Binding{"locator", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.locator = "loc"; }},
        Binding{"etag", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.etag = "fedcba9876543210fedcba9876543210"; }},
        Binding{"object_size", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.object_size += 1; }},
        Binding{"first", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.first -= 1; }},
        Binding{"length", [](handoff::ServePlan& p, handoff::FlowTuple&) { p.length -= 1; }}),
    [](const ::testing::TestParamInfo<Binding>& info) { return std::string(info.param.name); });

TEST(Ticket, TamperedOrMalformedTicketsAreRefused)
{
    auto keys = ring({{"t1", 7}});
    auto payload = handoff::encode_plan(sample_plan());
    auto now = std::chrono::system_clock::now();
    auto ticket = handoff::make_ticket(keys.current(), kFlow, payload, now + handoff::ticket_lifetime);
    for (std::size_t i = 0; i < ticket.size(); ++i) {
        auto flipped = ticket;
        flipped[i] ^= 0x01;
        EXPECT_FALSE(handoff::verify_ticket(keys, flipped, kFlow, payload, now).ok()) << "byte " << i;
    }
    auto short_one = ticket;
    short_one.pop_back();
    auto r = handoff::verify_ticket(keys, short_one, kFlow, payload, now);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("malformed"), std::string::npos);
    EXPECT_FALSE(handoff::verify_ticket(keys, {}, kFlow, payload, now).ok());
}

TEST(Ticket, OnlyTheNamedKeyOfTheRingVerifies)
{
    auto gateway = ring({{"t1", 7}});
    auto now = std::chrono::system_clock::now();
    auto payload = handoff::encode_plan(sample_plan());
    auto ticket = handoff::make_ticket(gateway.current(), kFlow, payload, now + handoff::ticket_lifetime);
    // Same id, another secret: the MAC fails.
    EXPECT_FALSE(handoff::verify_ticket(ring({{"t1", 8}}), ticket, kFlow, payload, now).ok());
    // Another id only: the key is unknown.
    auto unknown = handoff::verify_ticket(ring({{"t2", 7}}), ticket, kFlow, payload, now);
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("\"t1\", which is not in the ticket key file"), std::string::npos)
        << unknown.error().message;
}

/** TicketKeyFile - a 0600 ticket key file in a private temporary directory. */
class TicketKeyFile : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/xo-ticket-key-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/ticket.key";
    }
    void TearDown() override
    {
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }

    /** write() - replace the file with @lines (atomically, as an operator's rename would). */
    void write(const std::string& lines)
    {
        std::string next = path_ + ".new";
        {
            std::ofstream out(next);
            out << lines;
        }
        ASSERT_EQ(::chmod(next.c_str(), 0600), 0);
        ASSERT_EQ(::rename(next.c_str(), path_.c_str()), 0);
    }

    static std::string line(const char* id, char digit) { return std::string(id) + " " + std::string(64, digit) + "\n"; }

    std::string dir_, path_;
};

TEST_F(TicketKeyFile, RotationAcceptsBothKeysThenOnlyTheNewOne)
{
    auto payload = handoff::encode_plan(sample_plan());
    auto now = std::chrono::system_clock::now();
    write(line("old", '1'));
    handoff::KeyringFile gateway(path_), responder(path_);
    auto before = gateway.keys();
    ASSERT_TRUE(before.ok()) << before.error().message;
    auto old_ticket = handoff::make_ticket((*before)->current(), kFlow, payload, now + handoff::ticket_lifetime);

    // Step 1: the new key is added as the first line everywhere; the old one stays.
    write(line("new", '2') + line("old", '1'));
    auto during = gateway.keys();
    ASSERT_TRUE(during.ok()) << during.error().message;
    EXPECT_EQ((*during)->current().id(), "new") << "the gateway did not pick up the new current key";
    auto new_ticket = handoff::make_ticket((*during)->current(), kFlow, payload, now + handoff::ticket_lifetime);
    auto accepted = responder.keys();
    ASSERT_TRUE(accepted.ok());
    EXPECT_TRUE(handoff::verify_ticket(**accepted, old_ticket, kFlow, payload, now).ok());
    EXPECT_TRUE(handoff::verify_ticket(**accepted, new_ticket, kFlow, payload, now).ok());

    // Step 2: the old line is removed.
    write(line("new", '2'));
    auto after = responder.keys();
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(handoff::verify_ticket(**after, old_ticket, kFlow, payload, now).ok());
    EXPECT_TRUE(handoff::verify_ticket(**after, new_ticket, kFlow, payload, now).ok());
}

TEST(ReplayCache, ATicketIsRefusedAgainUntilItCouldNoLongerVerify)
{
    using Seen = rsp::ReplayCache::Seen;
    rsp::ReplayCache cache(8, handoff::ticket_max_validity);
    rsp::ReplayCache::Mac a{}, b{};
    a[0] = 1;
    b[0] = 2;
    auto t0 = rsp::ReplayCache::Clock::now();
    EXPECT_EQ(cache.admit(a, t0), Seen::fresh);
    EXPECT_EQ(cache.admit(a, t0 + 1s), Seen::replayed);
    EXPECT_EQ(cache.admit(b, t0 + 1s), Seen::fresh);
    EXPECT_EQ(cache.admit(a, t0 + handoff::ticket_max_validity - 1ms), Seen::replayed);
    // Aged out: by now verify_ticket() refuses it as expired anyway.
    EXPECT_EQ(cache.admit(a, t0 + handoff::ticket_max_validity), Seen::fresh);
    EXPECT_EQ(cache.size(), 2u);
}

TEST(ReplayCache, WhenFullItRefusesRatherThanForgets)
{
    using Seen = rsp::ReplayCache::Seen;
    rsp::ReplayCache cache(2, 10s);
    rsp::ReplayCache::Mac m[3]{};
    for (int i = 0; i < 3; ++i)
        m[i][31] = static_cast<std::uint8_t>(i + 1);
    auto t0 = rsp::ReplayCache::Clock::now();
    EXPECT_EQ(cache.admit(m[0], t0), Seen::fresh);
    EXPECT_EQ(cache.admit(m[1], t0 + 1s), Seen::fresh);
    EXPECT_EQ(cache.admit(m[2], t0 + 2s), Seen::full);
    EXPECT_EQ(cache.admit(m[0], t0 + 2s), Seen::replayed) << "a full cache forgot a ticket";
    // Once the oldest ages out there is room again.
    EXPECT_EQ(cache.admit(m[2], t0 + 10s), Seen::fresh);
    EXPECT_EQ(cache.admit(m[1], t0 + 10s), Seen::replayed);
}

} // namespace
