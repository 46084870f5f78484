// Theory of operation: xo-testbed-responder, a responder of the handoff test
// bed. A ConnectionHost accepts gateways on --control (TLS PSK from --key),
// restores offered connections on --address and installs their egress
// rewrites through the data plane on --ifname (pins under --instance). The
// application answers the request line the gateway forwarded as the app
// payload by streaming its pattern, then hands the connection back with the
// unconsumed bytes the gateway had read ahead (the responder reads nothing
// from the socket itself; later client bytes travel in the TCP state's
// receive queue). --max-connections makes it refuse OFFERs as busy (0: all
// of them), which the tests use to exercise the gateway's fallback.
// --limit-scale N multiplies the control protocol's answer limits (HostLimits
// reply, go and drain) for a host far slower than the defaults assume: the
// kernel matrix's emulated guest (qa/vm/probes.sh). On SIGTERM it detaches,
// removes its pins and prints counters and per-step timings.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <iostream>

#include "common/handoff/connection_host.h"
#include "qa/handoff/cli.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "qa/handoff/pattern_writer.h"
#include "bpf/responder_data_plane.h"
#include "common/handoff/socket_ops.h"
#include "qa/handoff/step_stats.h"

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using namespace xo;
using namespace xo::handoff;

struct Options {
    tcp::endpoint control;
    asio::ip::address address;
    std::vector<asio::ip::address> gateways;
    std::string ifname, instance, key_file;
    std::size_t max_connections = 4096;
    double limit_scale = 1;
};

Result<Options> parse_options(int argc, char** argv)
{
    namespace po = boost::program_options;
    std::string control, address;
    std::vector<std::string> gateways;
    Options o;
    po::options_description desc("xo-testbed-responder options");
    desc.add_options()
        ("control", po::value(&control)->required(), "control server IP:port")
        ("address", po::value(&address)->required(), "own address for restored sockets")
        ("gateway-address", po::value(&gateways)->required(), "a gateway public address served for (repeatable)")
        ("ifname", po::value(&o.ifname)->required(), "NIC the restored connections leave through")
        ("instance", po::value(&o.instance)->required(), "pin directory name")
        ("key", po::value(&o.key_file)->required(), "PSK file (mode 0600)")
        ("max-connections", po::value(&o.max_connections), "refuse OFFERs beyond this many connections")
        ("limit-scale", po::value(&o.limit_scale), "multiply the control protocol's answer limits (factor > 0)");
    if (auto parsed = testbed::parse_cli(desc, argc, argv); !parsed)
        return parsed.error();
    if (!(o.limit_scale > 0))
        return Error{"--limit-scale: a factor above 0"};
    std::string why;
    auto ep = parse_endpoint(control, why);
    if (!ep)
        return Error{"--control: " + why};
    o.control = *ep;
    boost::system::error_code ec;
    o.address = asio::ip::make_address(address, ec);
    if (ec)
        return Error{"--address: " + ec.message()};
    for (const auto& text : gateways) {
        o.gateways.push_back(asio::ip::make_address(text, ec));
        if (ec)
            return Error{"--gateway-address " + text + ": " + ec.message()};
    }
    return o;
}

struct Served {
    std::uint64_t connections = 0, bytes = 0, errors = 0;
};

/** make_application() - the testbed's application: stream the requested pattern. */
Application make_application(asio::io_context& ioc, Served& served, testbed::StepStats& stats)
{
    return [&ioc, &served, &stats](HostedConnection& conn) -> awaitable<Result<HandBack>> {
        stats.add("rsp_restore", conn.times.restore);
        stats.add("rsp_rewrite_insert", conn.times.rewrite);
        stats.add("rsp_leave_repair", conn.times.leave_repair);
        std::string line(conn.app_payload.begin(), conn.app_payload.end());
        auto request = testbed::parse_request(line);
        if (!request) {
            ++served.errors;
            co_return Error{"bad app payload: " + line};
        }
        auto ends = socket_endpoints(conn.socket.get());
        if (!ends)
            co_return ends.error();
        tcp::socket socket(ioc);
        socket.assign(ends->local.protocol(), conn.socket.release());
        auto written = co_await testbed::write_pattern(socket, *request);
        conn.socket.reset(socket.release());
        ++served.connections;
        if (!written) {
            ++served.errors;
            co_return written.error();
        }
        served.bytes += request->bytes;
        co_return HandBack{std::move(conn.read_ahead), {}};
    };
}

int run(const Options& options)
{
    if (auto keys = handoff::Keyring::load(options.key_file); !keys)
        return log::error(keys.error().message), 1;
    auto tls = handoff::ControlTls::make(handoff::ControlTls::Role::server, handoff::key_file_source(options.key_file));
    if (!tls)
        return log::error(tls.error().message), 1;
    Served served;
    testbed::StepStats stats;
    std::size_t still_hosted = 0;
    {
        auto plane = bpf::ResponderDataPlane::open({options.instance});
        if (!plane)
            return log::error(plane.error().message), 1;
        if (auto r = (*plane)->attach(options.ifname); !r)
            return log::error(r.error().message), (void)bpf::ResponderDataPlane::remove(options.instance), 1;

        asio::io_context ioc;
        HostLimits limits;
        limits.max_connections = options.max_connections;
        limits.reply = testbed::scaled(limits.reply, options.limit_scale);
        limits.go = testbed::scaled(limits.go, options.limit_scale);
        limits.drain = testbed::scaled(limits.drain, options.limit_scale);
        ConnectionHost host((*plane)->rewrites(), HostAddresses{options.address, options.gateways},
                            make_application(ioc, served, stats), limits);
        tcp::acceptor acceptor(ioc, options.control);
        asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
        asio::co_spawn(ioc, host.accept_gateways(acceptor, *tls), asio::detached);
        log::info("responder control on ", to_string(options.control), ", restoring on ", options.address);
        std::cout << "ready" << std::endl;
        ioc.run();
        still_hosted = host.hosted();
    }
    if (auto r = bpf::ResponderDataPlane::remove(options.instance); !r)
        log::warn(r.error().message);
    std::cout << "counters connections=" << served.connections << " bytes=" << served.bytes
              << " errors=" << served.errors << " hosted=" << still_hosted << "\n";
    stats.print(std::cout);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    auto options = parse_options(argc, argv);
    if (!options) {
        std::cerr << options.error().message << "\n";
        return 2;
    }
    return run(*options);
}
