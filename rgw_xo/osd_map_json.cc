// Parsers for the monitor texts described in osd_map_json.h. Boost's
// property tree parses the JSON (numbers arrive as strings); its exceptions
// stay inside this file and leave as Errors.
#include "rgw_xo/osd_map_json.h"

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <charconv>
#include <sstream>

namespace xo::rgw {

namespace pt = boost::property_tree;

namespace {

Result<pt::ptree> parse(std::string_view json, const char* what)
{
    pt::ptree tree;
    try {
        std::istringstream in{std::string(json)};
        pt::read_json(in, tree);
    } catch (const pt::json_parser_error& e) {
        return Error{std::string(what) + ": bad JSON: " + e.what(), 0};
    }
    return tree;
}

} // namespace

Result<PgPrimary> parse_osd_map_reply(std::string_view json)
{
    auto tree = parse(json, "osd map reply");
    if (!tree)
        return tree.error();
    PgPrimary out;
    try {
        out.epoch = tree->get<uint64_t>("epoch");
        out.pgid = tree->get<std::string>("pgid");
        out.acting_primary = tree->get<int>("acting_primary");
    } catch (const pt::ptree_error& e) {
        return Error{std::string("osd map reply: ") + e.what(), 0};
    }
    if (out.acting_primary < 0)
        return Error{"osd map reply: PG " + out.pgid + " has no acting primary at epoch " + std::to_string(out.epoch),
                     0};
    return out;
}

Result<OsdAddresses> parse_osd_dump_addresses(std::string_view json)
{
    auto tree = parse(json, "osd dump");
    if (!tree)
        return tree.error();
    OsdAddresses out;
    try {
        out.epoch = tree->get<uint64_t>("epoch");
        for (const auto& [unused, osd] : tree->get_child("osds")) {
            if (osd.get<int>("up") == 0)
                continue;
            auto host = host_of_address(osd.get<std::string>("public_addr"));
            if (!host)
                return with_context("osd dump: osd." + osd.get<std::string>("osd"), host.error());
            out.host[osd.get<int>("osd")] = std::move(*host);
        }
    } catch (const pt::ptree_error& e) {
        return Error{std::string("osd dump: ") + e.what(), 0};
    }
    return out;
}

std::optional<uint64_t> osdmap_epoch_from_log(std::string_view message)
{
    constexpr std::string_view prefix = "osdmap e";
    if (message.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    const char* begin = message.data() + prefix.size();
    const char* end = message.data() + message.size();
    uint64_t epoch = 0;
    auto [ptr, ec] = std::from_chars(begin, end, epoch);
    if (ec != std::errc{} || ptr == begin || (ptr != end && *ptr != ':'))
        return std::nullopt;
    return epoch;
}

void append_json_utf8(std::string& out, std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20) {
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
}

Result<std::string> host_of_address(std::string_view addr)
{
    addr = addr.substr(0, addr.find('/'));
    if (!addr.empty() && addr.front() == '[') {
        const auto close = addr.find(']');
        if (close == std::string_view::npos)
            return Error{"address without ']': " + std::string(addr), 0};
        return std::string(addr.substr(1, close - 1));
    }
    const auto colon = addr.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return Error{"address without port: " + std::string(addr), 0};
    return std::string(addr.substr(0, colon));
}

} // namespace xo::rgw
