// Nothing a peer says about addresses is trusted (common/handoff/host_addresses.h,
// offloader.h): each refusal is provoked by a crafted message over a real
// authenticated control channel.
//
// Theory of operation: the responder side runs a ConnectionHost on a loopback
// control channel while the test plays the gateway with hand-made OFFERs.
// Its admission turns everything down as unsupported, so an OFFER that gets
// past the address checks is seen to reach the admission and nothing is ever
// restored: these tests need no privileges. The gateway side runs an
// Offloader on a real client connection in a fresh network namespace while
// the test plays the responder with crafted READY and RETURN messages; it
// needs CAP_NET_ADMIN (TCP_REPAIR, the namespace) and reports SKIPPED
// without it. The data planes are in-memory tables (steering.h): what is
// tested is what the engine asks of them.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "qa/unit/channel_support.h"
#include "common/handoff/connection_host.h"
#include "common/handoff/offloader.h"
#include "qa/unit/private_netns.h"
#include "common/handoff/responder_link.h"
#include "common/handoff/socket_ops.h"
#include "common/wire.h"

namespace xo {
namespace {

namespace h = xo::handoff;
using namespace std::chrono_literals;
using boost::asio::awaitable;
using boost::asio::ip::make_address;

constexpr auto budget = 10s;

/** FakeRewrites - source rewrites kept in memory. */
struct FakeRewrites : h::SourceRewrites {
    Result<void> insert(const h::Flow& flow, const Endpoint&) override
    {
        entries.insert(to_string(flow.src) + ">" + to_string(flow.dst));
        return {};
    }
    Result<void> remove(const h::Flow& flow) override
    {
        entries.erase(to_string(flow.src) + ">" + to_string(flow.dst));
        return {};
    }
    std::set<std::string> entries;
};

/** FakeSteering - a gateway flow table in memory; it sees no packets. */
struct FakeSteering : h::FlowSteering {
    static std::string key(const h::Flow& flow) { return to_string(flow.src) + ">" + to_string(flow.dst); }
    Result<void> block(const h::Flow& flow) override
    {
        entries[key(flow)] = h::FlowAction::block;
        return {};
    }
    Result<void> redirect(const h::Flow& flow, const h::RedirectTarget&) override
    {
        if (!entries.contains(key(flow)))
            return Error{"no entry", ENOENT};
        entries[key(flow)] = h::FlowAction::redirect;
        return {};
    }
    Result<void> remove(const h::Flow& flow) override
    {
        entries.erase(key(flow));
        return {};
    }
    Result<h::FlowCounters> counters(const h::Flow& flow) const override
    {
        auto at = entries.find(key(flow));
        if (at == entries.end())
            return Error{"no entry", ENOENT};
        return h::FlowCounters{at->second};
    }
    std::map<std::string, h::FlowAction> entries;
};

h::Bytes encoded(const tcp::TcpState& state)
{
    WireWriter out;
    encode(state, out);
    return out.take();
}

/** offered_state() - a TCP state of @client's connection to the gateway at @gateway. */
tcp::TcpState offered_state(const h::TcpAsioEndpoint& client, const h::TcpAsioEndpoint& gateway)
{
    tcp::TcpState s;
    s.family = client.address().is_v4() ? AF_INET : AF_INET6;
    s.local = h::to_tcp_endpoint(gateway);
    s.remote = h::to_tcp_endpoint(client);
    s.mss = 1460;
    return s;
}

/** struct HostAnswer - what a ConnectionHost answered one OFFER, and what it counted. */
struct HostAnswer {
    std::optional<Result<h::Message>> answer;
    int admitted = 0;
    std::uint64_t refused = 0;
};

/** offer_to_host() - send one OFFER of @state to a ConnectionHost at 198.18.0.10 serving gateways .2 and .3. */
HostAnswer offer_to_host(const tcp::TcpState& state)
{
    HostAnswer result;
    metrics::Registry registry;
    auto& refused = registry.counter("xo_test_refused_total", "test");
    auto server_tls = test::tls_with(handoff::ControlTls::Role::server, 9);
    auto client_tls = test::tls_with(handoff::ControlTls::Role::client, 9);
    boost::asio::io_context ioc;
    test::Loopback lo(ioc);
    FakeRewrites rewrites; // never reached: the admission refuses first
    h::HostAddresses addresses{make_address("198.18.0.10"), {make_address("198.18.0.2"), make_address("198.18.0.3")},
                               &refused};
    h::Admission admit = [&result](const h::Offer&,
                                   const h::OfferedFlow&) -> awaitable<std::variant<std::any, h::Rejection>> {
        ++result.admitted;
        co_return h::Rejection{h::RefuseReason::unsupported, "this test admits nothing"};
    };
    h::Application app = [](h::HostedConnection&) -> awaitable<Result<h::HandBack>> {
        co_return Error{"never admitted"};
    };
    h::ConnectionHost host(rewrites, std::move(addresses), app, {}, admit);

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto channel = co_await lo.accept_one(server_tls);
        if (channel)
            co_await host.serve(std::move(*channel), nullptr);
    }, test::rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto channel = co_await handoff::connect_channel(client_tls, lo.endpoint(), deadline_in(5s));
        if (!channel) {
            result.answer = channel.error();
            co_return;
        }
        h::Message offer = h::Offer{7, encoded(state), {}, {}, {}};
        auto sent = co_await (*channel)->send(offer, deadline_in(5s));
        if (!sent) {
            result.answer = sent.error();
            co_return;
        }
        result.answer = co_await (*channel)->recv(deadline_in(5s));
        (*channel)->close("the test is done");
    }, test::rethrow);
    ioc.run_for(budget);
    result.refused = refused.value();
    return result;
}

/** expect_refused() - @r is a REFUSE of flow 7 for @reason, mentioning @words. */
void expect_refused(const HostAnswer& r, h::RefuseReason reason, const std::string& words)
{
    ASSERT_TRUE(r.answer.has_value()) << "no answer";
    ASSERT_TRUE(r.answer->ok()) << r.answer->error().message;
    auto* refuse = std::get_if<h::Refuse>(&**r.answer);
    ASSERT_NE(refuse, nullptr) << "expected REFUSE, got " << h::type_name(h::type_of(**r.answer));
    EXPECT_EQ(refuse->flow_id, 7u);
    EXPECT_EQ(refuse->reason, reason) << refuse->text;
    EXPECT_NE(refuse->text.find(words), std::string::npos) << refuse->text;
}

h::TcpAsioEndpoint ep(const char* address, std::uint16_t port)
{
    return {make_address(address), port};
}

TEST(ResponderAddressTrust, OfferOnAConfiguredGatewayAddressReachesTheAdmission)
{
    auto r = offer_to_host(offered_state(ep("198.18.0.100", 40000), ep("198.18.0.3", 80)));
    expect_refused(r, h::RefuseReason::unsupported, "admits nothing");
    EXPECT_EQ(r.admitted, 1);
    EXPECT_EQ(r.refused, 0u);
}

TEST(ResponderAddressTrust, RewriteSourceThatIsNoConfiguredGatewayIsRefused)
{
    auto r = offer_to_host(offered_state(ep("198.18.0.100", 40000), ep("198.18.0.99", 80)));
    expect_refused(r, h::RefuseReason::bad_address, "public address 198.18.0.99 is not a gateway address");
    EXPECT_EQ(r.admitted, 0);
    EXPECT_EQ(r.refused, 1u);
}

TEST(ResponderAddressTrust, ClientThatIsTheResponderItselfIsRefused)
{
    auto r = offer_to_host(offered_state(ep("198.18.0.10", 6800), ep("198.18.0.2", 80)));
    expect_refused(r, h::RefuseReason::bad_address, "client address 198.18.0.10 is not a remote host");
    EXPECT_EQ(r.admitted, 0);
    EXPECT_EQ(r.refused, 1u);
}

TEST(ResponderAddressTrust, LoopbackOrGatewayClientIsRefused)
{
    for (const char* client : {"127.0.0.1", "198.18.0.3", "0.0.0.0", "224.0.0.1"}) {
        auto r = offer_to_host(offered_state(ep(client, 6789), ep("198.18.0.2", 80)));
        expect_refused(r, h::RefuseReason::bad_address, std::string("client address ") + client);
        EXPECT_EQ(r.admitted, 0) << client;
    }
}

TEST(ResponderAddressTrust, OtherFamilyOrPortZeroIsRefused)
{
    auto v6 = offer_to_host(offered_state(ep("2001:db8::100", 40000), ep("2001:db8::2", 80)));
    expect_refused(v6, h::RefuseReason::bad_address, "another address family");
    auto no_port = offer_to_host(offered_state(ep("198.18.0.100", 0), ep("198.18.0.2", 80)));
    expect_refused(no_port, h::RefuseReason::bad_address, "port 0");
    EXPECT_EQ(v6.admitted + no_port.admitted, 0);
}

/**
 * GatewayTrust - a gateway Offloader with a real client connection, in a
 * fresh network namespace (loopback up).
 */
class GatewayTrust : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (auto skip = netns_.enter())
            GTEST_SKIP() << *skip;
        connect_client();
    }

    void TearDown() override
    {
        netns_.leave();
    }

    /** connect_client() - client_ connected to gateway_ through listener_ on 127.0.0.1. */
    void connect_client()
    {
        listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int one = 1;
        ASSERT_EQ(::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
        ASSERT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        ASSERT_EQ(::listen(listener_.get(), 4), 0);
        socklen_t len = sizeof addr;
        ASSERT_EQ(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
        client_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_EQ(::connect(client_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        gateway_.reset(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        ASSERT_TRUE(gateway_.valid());
        timeval wait{3, 0};
        ASSERT_EQ(::setsockopt(client_.get(), SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait), 0);
    }

    /** flow_entries() - entries left in the flow table. */
    std::size_t flow_entries() const { return flows_.entries.size(); }

    test::PrivateNetns netns_;
    UniqueFd listener_, client_, gateway_;
    FakeSteering flows_;
};

/** struct FakeResponder - the test's side of the control channel, playing a responder. */
struct FakeResponder {
    std::unique_ptr<handoff::ControlChannel> channel;
    std::optional<tcp::TcpState> offered;

    /** expect() - the next message as a @T, or nullopt (the test fails). */
    template <typename T>
    awaitable<std::optional<T>> expect()
    {
        auto m = co_await channel->recv(deadline_in(5s));
        EXPECT_TRUE(m.ok()) << m.error().message;
        if (!m)
            co_return std::nullopt;
        auto* wanted = std::get_if<T>(&*m);
        EXPECT_NE(wanted, nullptr) << "got " << h::type_name(h::type_of(*m));
        if (!wanted)
            co_return std::nullopt;
        co_return std::move(*wanted);
    }

    /** take_offer() - accept the OFFER, keeping its TCP state. */
    awaitable<std::uint64_t> take_offer()
    {
        auto offer = co_await expect<h::Offer>();
        if (!offer)
            co_return 0;
        WireReader in(offer->tcp_state);
        auto state = tcp::decode_tcp_state(in);
        EXPECT_TRUE(state.ok());
        if (state)
            offered = std::move(*state);
        co_return offer->flow_id;
    }

    awaitable<void> send(h::Message m)
    {
        auto sent = co_await channel->send(m, deadline_in(5s));
        EXPECT_TRUE(sent.ok()) << sent.error().message;
    }
};

TEST_F(GatewayTrust, ReadyNamingAnotherHostIsUndoneAndTheGatewayKeepsTheConnection)
{
    auto server_tls = test::tls_with(handoff::ControlTls::Role::server, 5);
    auto client_tls = test::tls_with(handoff::ControlTls::Role::client, 5);
    boost::asio::io_context ioc;
    test::Loopback lo(ioc);
    h::Offloader offloader(flows_, Mac{});
    std::optional<h::OffloadOutcome> outcome;
    bool aborted = false;

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto channel = co_await lo.accept_one(server_tls);
        if (!channel) {
            ADD_FAILURE() << channel.error().message;
            co_return;
        }
        FakeResponder responder{std::move(*channel), {}};
        auto flow = co_await responder.take_offer();
        // The link's responder is 127.0.0.1: READY points the client at 127.0.0.2.
        auto sending = responder.send(h::Ready{flow, h::address_bytes(make_address("127.0.0.2")), 40000});
        co_await std::move(sending);
        aborted = (co_await responder.expect<h::Abort>()).has_value();
    }, test::rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        h::ResponderLink::Address to{lo.endpoint(), make_address("127.0.0.1"), {}};
        auto link = co_await h::ResponderLink::connect(client_tls, to, deadline_in(5s));
        if (!link) {
            ADD_FAILURE() << link.error().message;
            co_return;
        }
        h::OffloadRequest request{std::move(gateway_), {}, {}, {}, 0};
        auto offloading = offloader.offload(*link, std::move(request));
        outcome.emplace(co_await std::move(offloading));
        (*link)->close("the test is done");
    }, test::rethrow);
    ioc.run_for(budget);

    ASSERT_TRUE(outcome.has_value()) << "offload() did not finish";
    auto* fallback = std::get_if<h::Fallback>(&*outcome);
    ASSERT_NE(fallback, nullptr) << "expected a fallback";
    EXPECT_TRUE(fallback->distrusted);
    EXPECT_NE(fallback->reason.message.find("READY names 127.0.0.2"), std::string::npos) << fallback->reason.message;
    EXPECT_TRUE(aborted) << "the responder was not told ABORT";
    EXPECT_EQ(flow_entries(), 0u);
    // The connection is the gateway's again, unchanged: it still carries bytes.
    ASSERT_TRUE(fallback->socket.valid());
    ASSERT_EQ(::send(fallback->socket.get(), "still here", 10, 0), 10) << std::strerror(errno);
    char got[16] = {};
    ASSERT_EQ(::recv(client_.get(), got, sizeof got, 0), 10) << std::strerror(errno);
    EXPECT_EQ(std::string(got, 10), "still here");
}

TEST_F(GatewayTrust, ReturnOfAnotherClientIsNotRestoredAndTheFlowIsLost)
{
    auto server_tls = test::tls_with(handoff::ControlTls::Role::server, 5);
    auto client_tls = test::tls_with(handoff::ControlTls::Role::client, 5);
    boost::asio::io_context ioc;
    test::Loopback lo(ioc);
    h::Offloader offloader(flows_, Mac{});
    std::optional<h::OffloadOutcome> outcome;
    std::optional<Result<h::FlowEnd>> end;
    bool aborted = false;

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto channel = co_await lo.accept_one(server_tls);
        if (!channel) {
            ADD_FAILURE() << channel.error().message;
            co_return;
        }
        FakeResponder responder{std::move(*channel), {}};
        auto flow = co_await responder.take_offer();
        if (!responder.offered)
            co_return;
        auto sending = responder.send(h::Ready{flow, h::address_bytes(make_address("127.0.0.1")), 40000});
        co_await std::move(sending);
        auto go = co_await responder.expect<h::Go>();
        if (!go)
            co_return;
        auto preparing = responder.send(h::ReturnPrepare{flow});
        co_await std::move(preparing);
        auto ready = co_await responder.expect<h::Ready>();
        if (!ready)
            co_return;
        // The connection handed back claims another client: one port further.
        tcp::TcpState other = *responder.offered;
        other.remote.port = static_cast<std::uint16_t>(other.remote.port + 1);
        auto returning = responder.send(h::Return{flow, encoded(other), {}, {}});
        co_await std::move(returning);
        aborted = (co_await responder.expect<h::Abort>()).has_value();
    }, test::rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        h::ResponderLink::Address to{lo.endpoint(), make_address("127.0.0.1"), {}};
        auto link = co_await h::ResponderLink::connect(client_tls, to, deadline_in(5s));
        if (!link) {
            ADD_FAILURE() << link.error().message;
            co_return;
        }
        h::OffloadRequest request{std::move(gateway_), {}, {}, {}, 0};
        auto offloading = offloader.offload(*link, std::move(request));
        outcome.emplace(co_await std::move(offloading));
        if (auto* offloaded = std::get_if<h::Offloaded>(&*outcome)) {
            auto returning = offloader.await_return(std::move(*offloaded));
            end = co_await std::move(returning);
        }
        (*link)->close("the test is done");
    }, test::rethrow);
    ioc.run_for(budget);

    ASSERT_TRUE(outcome.has_value()) << "offload() did not finish";
    ASSERT_TRUE(std::holds_alternative<h::Offloaded>(*outcome)) << "the offload itself should succeed";
    ASSERT_TRUE(end.has_value()) << "await_return() did not finish";
    ASSERT_FALSE(end->ok()) << "a RETURN for another client was restored";
    EXPECT_NE(end->error().message.find("RETURN names client"), std::string::npos) << end->error().message;
    EXPECT_TRUE(aborted) << "the responder was not told ABORT";
    EXPECT_EQ(flow_entries(), 0u);
    // The gateway then probes the real client to reset it (Offloader::reset_client);
    // that needs the data plane to record the client's answer, which this test
    // has not attached, so the reset itself is the integration tests' to prove.
}

} // namespace
} // namespace xo
