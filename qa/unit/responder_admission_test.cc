// xo-responder's admission (osd_xo/responder_service.h) up to the cluster:
// a plan is only read for a ticket that verifies for the very flow offered,
// once, and every refusal is counted under its outcome. The cluster handle is
// never connected: a plan that passes the ticket check is then refused as a
// cluster error, which proves the check came first.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "common/endpoint.h"
#include "osd_xo/responder_service.h"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using xo::handoff::Offer;
using xo::handoff::OfferedFlow;
using xo::handoff::RefuseReason;
using xo::handoff::Rejection;

/** ticket_keys() - the keyring tickets are made and checked with. */
std::shared_ptr<const xo::handoff::Keyring> ticket_keys()
{
    static const auto keys = [] {
        auto key = xo::handoff::PresharedKey::from_bytes("t1", std::vector<std::uint8_t>(32, 0x5a));
        std::vector<xo::handoff::PresharedKey> all;
        all.push_back(std::move(*key));
        auto ring = xo::handoff::Keyring::of(std::move(all));
        return std::make_shared<const xo::handoff::Keyring>(std::move(*ring));
    }();
    return keys;
}

OfferedFlow flow(const char* client)
{
    auto ep = [](const char* ip, unsigned short port) {
        return asio::ip::tcp::endpoint(asio::ip::make_address(ip), port);
    };
    return OfferedFlow{ep(client, 40000), ep("198.18.0.2", 80)};
}

xo::handoff::ServePlan plan()
{
    xo::handoff::ServePlan p;
    p.pool = "default.rgw.buckets.data";
    p.oid = "marker_key";
    p.etag = "0123456789abcdef0123456789abcdef";
    p.object_size = 10 << 20;
    p.first = 65536;
    p.length = p.object_size - p.first;
    return p;
}

Offer offer(const std::vector<std::uint8_t>& payload, const OfferedFlow& f,
            std::chrono::system_clock::time_point expires = std::chrono::system_clock::now() + 10s)
{
    Offer o;
    o.flow_id = 7;
    o.app_payload = payload;
    xo::handoff::FlowTuple tuple{xo::to_string(f.client), xo::to_string(f.gateway)};
    o.ticket = xo::handoff::make_ticket(ticket_keys()->current(), tuple, payload, expires);
    return o;
}

class ResponderAdmission : public ::testing::Test {
protected:
    ResponderAdmission()
        : metrics_(registry_),
          service_(ioc_.get_executor(), rados_, [] { return xo::Result<std::shared_ptr<const xo::handoff::Keyring>>(ticket_keys()); },
                   xo::rsp::ReadSettings{}, 30s, metrics_, 2)
    {
        // Initialised, never connected: any cluster call fails at once.
        EXPECT_EQ(rados_.init("admin"), 0);
    }

    /** admit() - the admission's verdict on @o arriving for @f. */
    std::variant<std::any, Rejection> admit(const Offer& o, const OfferedFlow& f)
    {
        std::optional<std::variant<std::any, Rejection>> verdict;
        auto admission = service_.admission();
        asio::co_spawn(
            ioc_,
            [&]() -> asio::awaitable<void> {
                auto deciding = admission(o, f);
                verdict = co_await std::move(deciding);
            },
            asio::detached);
        ioc_.run();
        ioc_.restart();
        EXPECT_TRUE(verdict.has_value());
        return verdict.value_or(Rejection{});
    }

    Rejection refused(const Offer& o, const OfferedFlow& f)
    {
        auto v = admit(o, f);
        EXPECT_TRUE(std::holds_alternative<Rejection>(v));
        return std::holds_alternative<Rejection>(v) ? std::get<Rejection>(v) : Rejection{};
    }

    asio::io_context ioc_;
    librados::Rados rados_;
    xo::metrics::Registry registry_;
    xo::rsp::ResponderMetrics metrics_;
    xo::rsp::ResponderService service_;
};

TEST_F(ResponderAdmission, MalformedPlanIsABadTicket)
{
    auto f = flow("198.18.0.100");
    auto r = refused(offer({1, 2, 3}, f), f);
    EXPECT_EQ(r.reason, RefuseReason::bad_ticket);
    EXPECT_NE(r.text.find("serve plan"), std::string::npos);
    EXPECT_EQ(metrics_.refused_bad_ticket.value(), 1u);
}

TEST_F(ResponderAdmission, TicketForAnotherClientIsRefused)
{
    auto payload = xo::handoff::encode_plan(plan());
    auto r = refused(offer(payload, flow("198.18.0.100")), flow("198.18.0.101"));
    EXPECT_EQ(r.reason, RefuseReason::bad_ticket);
    EXPECT_EQ(metrics_.refused_bad_ticket.value(), 1u);
}

TEST_F(ResponderAdmission, TicketForAnotherPlanIsRefused)
{
    auto f = flow("198.18.0.100");
    auto o = offer(xo::handoff::encode_plan(plan()), f);
    auto other = plan();
    other.first = 0; // the client would get bytes the gateway already sent
    other.length = other.object_size;
    o.app_payload = xo::handoff::encode_plan(other);
    EXPECT_EQ(refused(o, f).reason, RefuseReason::bad_ticket);
}

TEST_F(ResponderAdmission, ExpiredTicketIsRefused)
{
    auto f = flow("198.18.0.100");
    auto r = refused(offer(xo::handoff::encode_plan(plan()), f, std::chrono::system_clock::now() - xo::handoff::ticket_clock_skew - 1s), f);
    EXPECT_EQ(r.reason, RefuseReason::bad_ticket);
    EXPECT_NE(r.text.find("expired"), std::string::npos) << r.text;
}

TEST_F(ResponderAdmission, ATicketIsUsedOnce)
{
    auto f = flow("198.18.0.100");
    auto o = offer(xo::handoff::encode_plan(plan()), f);
    EXPECT_EQ(refused(o, f).reason, RefuseReason::unspecified); // used: it reached the cluster
    auto again = refused(o, f);
    EXPECT_EQ(again.reason, RefuseReason::replayed) << again.text;
    EXPECT_NE(again.text.find("used before"), std::string::npos) << again.text;
    EXPECT_EQ(metrics_.refused_replayed.value(), 1u);
}

TEST_F(ResponderAdmission, AFullReplayCacheRefusesNewTickets)
{
    auto f = flow("198.18.0.100");
    // The fixture's cache holds 2 tickets.
    EXPECT_EQ(refused(offer(xo::handoff::encode_plan(plan()), f), f).reason, RefuseReason::unspecified);
    auto other = plan();
    other.first = 1;
    other.length = other.object_size - 1;
    EXPECT_EQ(refused(offer(xo::handoff::encode_plan(other), f), f).reason, RefuseReason::unspecified);
    other.first = 2;
    other.length = other.object_size - 2;
    auto r = refused(offer(xo::handoff::encode_plan(other), f), f);
    EXPECT_EQ(r.reason, RefuseReason::busy) << r.text;
    EXPECT_NE(r.text.find("replay cache full"), std::string::npos) << r.text;
    EXPECT_EQ(metrics_.refused_replay_cache_full.value(), 1u);
}

TEST_F(ResponderAdmission, ValidTicketReachesTheCluster)
{
    auto f = flow("198.18.0.100");
    auto r = refused(offer(xo::handoff::encode_plan(plan()), f), f);
    EXPECT_EQ(r.reason, RefuseReason::unspecified) << r.text; // the unconnected handle, not the ticket
    EXPECT_NE(r.text.find("opening pool"), std::string::npos) << r.text;
    EXPECT_EQ(metrics_.refused_bad_ticket.value(), 0u);
    EXPECT_EQ(metrics_.refused_error.value(), 1u);
}

} // namespace
