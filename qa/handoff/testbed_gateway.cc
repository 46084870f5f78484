// Theory of operation: xo-testbed-gateway, the gateway daemon of the
// handoff test bed: options, key, data plane and signals around the service
// in gateway_service.h. The data plane attaches to --ifname (TC by default;
// native XDP on veths needs bed_prepare_xdp, see the team's kernel notes)
// with its maps pinned under --instance. SIGUSR1 prints the counters line;
// on SIGTERM it detaches, removes the pins and prints counters and
// per-step timings; with --tc-flower both also print the "tc_flower ..."
// line of the hybrid queue's stats. --tc-flower puts hybrid steering
// (common/steering/) with the TC flower backend (bpf/flower/) between the engine and the flow table:
// flows of at least --tc-flower-min-bytes get a rule in the background, and
// with --tc-flower-replace-entry a confirmed rule replaces the eBPF entry,
// so a completed transfer proves the rule steers by itself. --limit-scale N
// multiplies the control protocol's answer limits (OffloadTimeouts reply and
// closing; --stall-seconds stays as given) for a host far slower than the
// defaults assume: the kernel matrix's emulated guest (qa/vm/probes.sh).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <functional>
#include <iostream>
#include <sstream>

#include "qa/handoff/cli.h"
#include "common/endpoint.h"
#include "bpf/flower/flower_rules.h"
#include "bpf/gateway_data_plane.h"
#include "common/log.h"
#include "common/steering/hybrid_steering.h"
#include "common/handoff/offloader.h"
#include "qa/handoff/gateway_service.h"

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using namespace xo;
using namespace xo::handoff;
using namespace xo::testbed;

struct Options {
    tcp::endpoint listen;
    std::string ifname, instance, key_dir;
    std::vector<ResponderLink::Address> responders;
    bpf::AttachPreference attach = bpf::AttachPreference::tc;
    std::chrono::seconds stall {10};
    double limit_scale = 1;
    steering::FlowerMode tc_flower = steering::FlowerMode::off;
    steering::HybridOptions hybrid;
};

Result<ResponderLink::Address> parse_responder(const std::string& text)
{
    // CONTROL_IP:PORT,DATA_IP,MAC
    std::istringstream in(text);
    std::string control, data, mac;
    if (!std::getline(in, control, ',') || !std::getline(in, data, ',') || !std::getline(in, mac))
        return Error{"--responder wants CONTROL_IP:PORT,DATA_IP,MAC: " + text};
    ResponderLink::Address out;
    std::string why;
    auto ep = parse_endpoint(control, why);
    if (!ep)
        return Error{"--responder " + text + ": " + why};
    out.control = *ep;
    boost::system::error_code ec;
    out.data = asio::ip::make_address(data, ec);
    if (ec)
        return Error{"--responder " + text + ": bad data address"};
    unsigned b[6];
    if (std::sscanf(mac.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
        return Error{"--responder " + text + ": bad MAC"};
    for (int i = 0; i < 6; ++i)
        out.mac[i] = static_cast<std::uint8_t>(b[i]);
    return out;
}

Result<Options> parse_options(int argc, char** argv)
{
    namespace po = boost::program_options;
    std::string listen, attach = "tc";
    std::vector<std::string> responders;
    unsigned stall = 10;
    std::string tc_flower = "off";
    Options o;
    po::options_description desc("xo-testbed-gateway options");
    desc.add_options()
        ("listen", po::value(&listen)->required(), "public IP:port")
        ("ifname", po::value(&o.ifname)->required(), "public NIC for the data plane")
        ("instance", po::value(&o.instance)->required(), "pin directory name")
        ("keys", po::value(&o.key_dir)->required(), "directory of the responders' keys, <IP>.key (mode 0600)")
        ("responder", po::value(&responders), "CONTROL_IP:PORT,DATA_IP,MAC (repeatable)")
        ("attach", po::value(&attach), "tc | xdp | auto")
        ("stall-seconds", po::value(&stall), "longest an offloaded connection may go without progress")
        ("limit-scale", po::value(&o.limit_scale), "multiply the control protocol's answer limits (factor > 0)")
        ("tc-flower", po::value(&tc_flower), "off | software | hardware | auto: TC flower rules for long flows")
        ("tc-flower-min-bytes", po::value(&o.hybrid.min_bytes), "bytes to send from which a flow gets a rule")
        ("tc-flower-replace-entry", po::bool_switch(&o.hybrid.remove_ebpf_entry),
            "a confirmed rule replaces the flow's eBPF entry");
    if (auto parsed = testbed::parse_cli(desc, argc, argv); !parsed)
        return parsed.error();
    std::string why;
    auto ep = parse_endpoint(listen, why);
    if (!ep)
        return Error{"--listen: " + why};
    o.listen = *ep;
    for (const auto& r : responders) {
        auto parsed = parse_responder(r);
        if (!parsed)
            return parsed.error();
        o.responders.push_back(*parsed);
    }
    if (attach == "xdp")
        o.attach = bpf::AttachPreference::xdp_native;
    else if (attach == "auto")
        o.attach = bpf::AttachPreference::automatic;
    else if (attach != "tc")
        return Error{"--attach: tc, xdp or auto"};
    o.stall = std::chrono::seconds(stall);
    if (!(o.limit_scale > 0))
        return Error{"--limit-scale: a factor above 0"};
    auto mode = steering::parse_flower_mode(tc_flower);
    if (!mode)
        return with_context("--tc-flower", mode.error());
    o.tc_flower = *mode;
    return o;
}


int run(const Options& options)
{
    auto tls = handoff::ControlTls::make(handoff::ControlTls::Role::client, handoff::key_dir_source(options.key_dir));
    if (!tls)
        return log::error(tls.error().message), 1;
    GatewayCounters counters;
    StepStats stats;
    {
        auto plane = bpf::GatewayDataPlane::open({options.instance});
        if (!plane)
            return log::error(plane.error().message), 1;
        auto mode = (*plane)->attach(options.ifname, options.attach);
        if (!mode)
            return log::error(mode.error().message), (void)bpf::GatewayDataPlane::remove(options.instance), 1;
        log::info("data plane on ", options.ifname, " (", bpf::to_string(*mode), ")");

        auto flower = flower::FlowerRules::start(options.ifname, options.tc_flower);
        if (!flower)
            return log::error(flower.error().message), (void)bpf::GatewayDataPlane::remove(options.instance), 1;
        log::info("TC flower: ", steering::to_string(flower->mode), flower->caps ? "; " + flower->caps->describe() : "");
        std::optional<steering::HybridSteering> hybrid;
        if (flower->rules)
            hybrid.emplace((*plane)->flows(), *flower->rules, options.hybrid);
        handoff::FlowSteering& steering = hybrid ? static_cast<handoff::FlowSteering&>(*hybrid) : (*plane)->flows();
        auto print_hybrid = [&] {
            if (!hybrid)
                return;
            auto h = hybrid->stats();
            std::cout << "tc_flower queued=" << h.queued << " inserted=" << h.inserted << " skipped=" << h.skipped
                      << " dropped=" << h.dropped << " failed=" << h.failed << " removed=" << h.removed
                      << " remove_failed=" << h.remove_failed << " rules=" << h.rules
                      << " max_queue_depth=" << h.max_queue_depth << std::endl;
        };

        asio::io_context ioc;
        OffloadTimeouts timeouts;
        timeouts.reply = scaled(timeouts.reply, options.limit_scale);
        timeouts.closing = scaled(timeouts.closing, options.limit_scale);
        timeouts.stall = options.stall;
        Offloader offloader(steering, (*plane)->nic_mac(), timeouts);
        Gateway gateway(ioc, offloader, *tls);
        gateway.responders.resize(options.responders.size()); // fixed from here on: slots are referenced
        for (std::size_t i = 0; i < options.responders.size(); ++i)
            gateway.responders[i].address = options.responders[i];
        tcp::acceptor acceptor(ioc, options.listen);
        asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
        asio::signal_set report(ioc, SIGUSR1);
        std::function<void(const boost::system::error_code&, int)> on_report =
            [&](const boost::system::error_code& ec, int) {
                if (ec)
                    return;
                print_counters(gateway.counters);
                print_hybrid();
                report.async_wait(on_report);
            };
        report.async_wait(on_report);
        asio::co_spawn(ioc, [&]() -> awaitable<void> {
            co_await connect_responders(gateway);
            log::info("listening on ", to_string(options.listen));
            std::cout << "ready" << std::endl;
            co_await accept_clients(acceptor, gateway);
        }, asio::detached);
        ioc.run();
        counters = gateway.counters;
        stats = std::move(gateway.stats);
        print_hybrid();
    }
    if (auto r = bpf::GatewayDataPlane::remove(options.instance); !r)
        log::warn(r.error().message);
    print_counters(counters);
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
