// Theory of operation: xo-testbed-gateway, the gateway of the handoff test
// bed. It listens on its public address for requests "GET <bytes> <seed>\n"
// and hands each request's connection to responder (seed mod number of
// responders) through the Offloader; the responder streams the response and
// returns the connection, which goes back to reading requests — with any
// bytes of the next request the client already sent. When a handoff falls
// back (responder down or refusing) the gateway streams the response itself;
// a responder whose control channel died is reconnected, at most once per
// second, when a request wants it.
// The data plane attaches to --ifname (TC by default: veth test beds lose
// checksums under native XDP, see the team's kernel notes) with its maps pinned
// under --instance. SIGUSR1 prints the counters line; on SIGTERM it
// detaches, removes the pins and prints counters and per-step timings.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/program_options.hpp>

#include <functional>
#include <iostream>
#include <sstream>

#include "endpoint.h"
#include "gateway_data_plane.h"
#include "log.h"
#include "offloader.h"
#include "pattern_writer.h"
#include "step_stats.h"

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using namespace xo;
using namespace xo::handoff;

struct Options {
    tcp::endpoint listen;
    std::string ifname, instance, key_file;
    std::vector<ResponderLink::Address> responders;
    bpf::AttachPreference attach = bpf::AttachPreference::tc;
    std::chrono::seconds hold {60};
};

struct Counters {
    std::uint64_t requests = 0, offloads = 0, fallbacks = 0, lost = 0, returns = 0, return_errors = 0;
    std::uint64_t closed_at_responder = 0;
};

/**
 * struct ResponderSlot - one configured responder and its current link. A
 * link found dead is replaced by a new connection, at most once per second;
 * meanwhile its requests are served by the gateway.
 */
struct ResponderSlot {
    ResponderLink::Address address;
    std::shared_ptr<ResponderLink> link;
    Clock::time_point last_attempt {};
    bool connecting = false;
};

class Gateway {
public:
    Gateway(asio::io_context& ioc, Offloader& offloader, std::shared_ptr<ControlTls> tls)
        : ioc_(ioc), offloader_(offloader), tls_(std::move(tls)) {}

    std::vector<ResponderSlot> responders;
    Counters counters;
    testbed::StepStats stats;

    awaitable<void> serve(tcp::socket socket);

    /** connect() - (re)open the link of responder @index; waits at most 2 s. */
    awaitable<void> connect(std::size_t index);

private:
    /** handle() - serve one request; false when the connection is gone. */
    awaitable<bool> handle(tcp::socket& socket, Bytes& pending, testbed::Request request, std::string line);

    asio::io_context& ioc_;
    Offloader& offloader_;
    std::shared_ptr<ControlTls> tls_;
};

awaitable<void> Gateway::connect(std::size_t index)
{
    auto& slot = responders[index];
    if (slot.connecting)
        co_return;
    slot.connecting = true;
    slot.last_attempt = Clock::now();
    auto link = co_await ResponderLink::connect(tls_, slot.address, deadline_in(std::chrono::seconds(2)));
    slot.connecting = false;
    if (!link) {
        log::warn(link.error().message);
        co_return;
    }
    log::info("connected to responder ", (*link)->name());
    slot.link = std::move(*link);
}

awaitable<void> Gateway::serve(tcp::socket socket)
{
    Bytes pending;
    std::uint8_t buf[4096];
    while (true) {
        auto nl = std::find(pending.begin(), pending.end(), '\n');
        if (nl == pending.end()) {
            if (pending.size() > 1024)
                co_return; // not a testbed client
            boost::system::error_code ec;
            std::size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                co_return; // EOF or error: the socket closes normally
            pending.insert(pending.end(), buf, buf + n);
            continue;
        }
        std::string line(pending.begin(), nl);
        pending.erase(pending.begin(), nl + 1);
        auto request = testbed::parse_request(line);
        if (!request) {
            log::warn("bad request line: ", line);
            co_return;
        }
        ++counters.requests;
        if (!co_await handle(socket, pending, *request, line))
            co_return;
    }
}

awaitable<bool> Gateway::handle(tcp::socket& socket, Bytes& pending, testbed::Request request, std::string line)
{
    std::shared_ptr<ResponderLink> link;
    if (!responders.empty()) {
        std::size_t index = request.seed % responders.size();
        auto& slot = responders[index];
        if ((!slot.link || !slot.link->alive()) && Clock::now() - slot.last_attempt > std::chrono::seconds(1))
            asio::co_spawn(ioc_, connect(index), asio::detached);
        link = slot.link;
    }
    if (link) {
        auto protocol = socket.local_endpoint().protocol();
        OffloadRequest offer{UniqueFd(socket.release()), pending, Bytes(line.begin(), line.end()), Bytes{'t'}};
        auto outcome = co_await offloader_.offload(link, std::move(offer));
        if (auto* done = std::get_if<Offloaded>(&outcome)) {
            ++counters.offloads;
            stats.add("gw_block", done->times.block);
            stats.add("gw_save", done->times.save);
            stats.add("gw_control_rpc", done->times.rpc);
            stats.add("gw_redirect_insert", done->times.redirect);
            stats.add("gw_close", done->times.close);
            stats.add("handoff", done->times.total);
            auto back = co_await offloader_.await_return(std::move(*done));
            if (!back) {
                ++counters.return_errors;
                log::warn(back.error().message);
                co_return false;
            }
            if (!*back) {
                ++counters.closed_at_responder;
                co_return false;
            }
            auto& returned = **back;
            ++counters.returns;
            stats.add("return", returned.times.total);
            stats.add("return_restore", returned.times.restore);
            socket = tcp::socket(ioc_);
            socket.assign(protocol, returned.socket.release());
            pending = std::move(returned.read_ahead);
            co_return true;
        }
        if (auto* lost = std::get_if<Lost>(&outcome)) {
            ++counters.lost;
            log::warn(lost->reason.message);
            co_return false;
        }
        auto& fallback = std::get<Fallback>(outcome);
        ++counters.fallbacks;
        log::info("serving locally: ", fallback.reason.message);
        if (!fallback.socket.valid())
            co_return false;
        socket = tcp::socket(ioc_);
        socket.assign(protocol, fallback.socket.release());
    }
    auto written = co_await testbed::write_pattern(socket, request);
    co_return written.ok();
}

awaitable<void> accept_clients(tcp::acceptor& acceptor, Gateway& gateway)
{
    while (acceptor.is_open()) {
        boost::system::error_code ec;
        auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted)
            co_return;
        if (!ec)
            asio::co_spawn(acceptor.get_executor(), gateway.serve(std::move(socket)), asio::detached);
    }
}

awaitable<void> connect_responders(Gateway& gateway)
{
    for (std::size_t i = 0; i < gateway.responders.size(); ++i)
        co_await gateway.connect(i);
}

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
    unsigned hold = 60;
    Options o;
    po::options_description desc("xo-testbed-gateway options");
    desc.add_options()
        ("listen", po::value(&listen)->required(), "public IP:port")
        ("ifname", po::value(&o.ifname)->required(), "public NIC for the data plane")
        ("instance", po::value(&o.instance)->required(), "pin directory name")
        ("key", po::value(&o.key_file)->required(), "PSK file (mode 0600)")
        ("responder", po::value(&responders), "CONTROL_IP:PORT,DATA_IP,MAC (repeatable)")
        ("attach", po::value(&attach), "tc | xdp | auto")
        ("hold-seconds", po::value(&hold), "longest a responder may keep a connection");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::ostringstream usage;
        usage << e.what() << "\n" << desc;
        return Error{usage.str()};
    }
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
    o.hold = std::chrono::seconds(hold);
    return o;
}

/** print_counters() - one "counters ..." line on stdout (SIGUSR1 and exit). */
void print_counters(const Counters& c)
{
    std::cout << "counters requests=" << c.requests << " offloads=" << c.offloads << " fallbacks=" << c.fallbacks
              << " lost=" << c.lost << " returns=" << c.returns << " return_errors=" << c.return_errors
              << " closed_at_responder=" << c.closed_at_responder << std::endl;
}

int run(const Options& options)
{
    auto key = PresharedKey::load(options.key_file);
    if (!key)
        return log::error(key.error().message), 1;
    auto tls = ControlTls::make(std::move(*key), ControlTls::Role::client);
    if (!tls)
        return log::error(tls.error().message), 1;
    Counters counters;
    testbed::StepStats stats;
    {
        auto plane = bpf::GatewayDataPlane::open({options.instance});
        if (!plane)
            return log::error(plane.error().message), 1;
        auto mode = (*plane)->attach(options.ifname, options.attach);
        if (!mode)
            return log::error(mode.error().message), (void)bpf::GatewayDataPlane::remove(options.instance), 1;
        log::info("data plane on ", options.ifname, " (", bpf::to_string(*mode), ")");

        asio::io_context ioc;
        Offloader offloader((*plane)->flows(), (*plane)->nic_mac(), {std::chrono::seconds(2), options.hold});
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
