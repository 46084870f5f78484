// xo-locate: the Locator as a command-line tool, for the oracle tests and for
// people. Theory of operation: one Locator (one cluster handle, its caches and
// its OSD-map subscription) lives for the whole run; every stdin line is a
// JSON object {"bucket":..., "key":..., "version_id":...} (version_id
// optional) and gets exactly one stdout line, flushed at once, so a caller
// can hold a conversation with the process across cluster changes:
//
//   {"oid":..., "locator":..., "pool":..., "pool_id":N, "pgid":..., "osd":N,
//    "host":..., "epoch":N, "head_size":N, "cached":bool, "drops":N}
// or
//   {"error":"...", "code":N}
//
// "cached" says whether the PG's primary came from the cache, "drops" how
// often the cache has been dropped for a new OSD map epoch so far.
#include <boost/program_options.hpp>
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <iostream>
#include <sstream>

#include "rgw_xo/locator.h"

namespace {

namespace po = boost::program_options;
namespace pt = boost::property_tree;
using xo::rgw::Location;
using xo::rgw::ObjectName;

xo::Result<ObjectName> parse_request(const std::string& line)
{
    try {
        pt::ptree tree;
        std::istringstream in(line);
        pt::read_json(in, tree);
        return ObjectName{tree.get<std::string>("bucket"), tree.get<std::string>("key"),
                          tree.get<std::string>("version_id", "")};
    } catch (const pt::ptree_error& e) {
        return xo::Error{std::string("bad request line: ") + e.what(), EINVAL};
    }
}

void field(std::string& out, const char* name, std::string_view value)
{
    out += out.size() > 1 ? ",\"" : "\"";
    out += name;
    out += "\":";
    xo::rgw::append_json_utf8(out, value);
}

void number(std::string& out, const char* name, long long value)
{
    out += out.size() > 1 ? ",\"" : "\"";
    out += name;
    out += "\":" + std::to_string(value);
}

std::string answer_json(const Location& where, uint64_t drops)
{
    std::string out = "{";
    field(out, "oid", where.head.oid);
    field(out, "locator", where.head.locator);
    field(out, "pool", where.pool);
    number(out, "pool_id", where.pool_id);
    field(out, "pgid", where.pgid);
    number(out, "osd", where.osd);
    field(out, "host", where.host);
    number(out, "epoch", static_cast<long long>(where.epoch));
    number(out, "head_size", static_cast<long long>(where.head_size));
    out += std::string(",\"cached\":") + (where.primary_cached ? "true" : "false");
    number(out, "drops", static_cast<long long>(drops));
    return out + "}";
}

std::string error_json(const xo::Error& error)
{
    std::string out = "{";
    field(out, "error", error.message);
    number(out, "code", error.code);
    return out + "}";
}

} // namespace

int main(int argc, char** argv)
{
    xo::rgw::LocatorConfig config;
    int timeout = 10;
    po::options_description options("xo-locate: S3 names on stdin (JSON lines) -> primary OSD host (JSON lines)");
    options.add_options()("help,h", "this text")(
        "conf,c", po::value(&config.cluster.conf_path)->required(), "ceph.conf of the cluster")(
        "name,n", po::value(&config.cluster.client_name)->default_value(config.cluster.client_name), "client name")(
        "data-pool", po::value(&config.data_pool)->default_value(config.data_pool), "radosgw data pool")(
        "meta-pool", po::value(&config.meta_pool)->default_value(config.meta_pool), "radosgw metadata pool")(
        "timeout", po::value(&timeout)->default_value(timeout), "seconds per cluster operation");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, options), vm);
        if (vm.count("help")) {
            std::cout << options;
            return 0;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "xo-locate: " << e.what() << "\n" << options;
        return 2;
    }
    config.cluster.operation_timeout = std::chrono::seconds(timeout);

    auto locator = xo::rgw::Locator::create(config);
    if (!locator) {
        std::cerr << "xo-locate: " << locator.error().message << "\n";
        return 1;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty())
            continue;
        auto name = parse_request(line);
        auto where = name ? (*locator)->locate(*name) : xo::Result<Location>(name.error());
        std::cout << (where ? answer_json(*where, (*locator)->osd_map().drops()) : error_json(where.error()))
                  << std::endl;
    }
    return 0;
}
