#include "rgw_xo/rgw_frontends.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>

#include "common/endpoint.h"

namespace xo::gw {

namespace {

constexpr std::string_view spaces = " \t\r\n";

std::vector<std::string_view> split(std::string_view text, std::string_view separators)
{
    std::vector<std::string_view> parts;
    while (!text.empty()) {
        auto end = text.find_first_of(separators);
        parts.push_back(text.substr(0, end));
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
    return parts;
}

std::string_view trim(std::string_view text)
{
    auto first = text.find_first_not_of(spaces);
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(spaces) - first + 1);
}

// Options holding a byte count; the xo entry writes them as radosgw writes
// sizes (rgw_max_chunk_size = 4M), so they accept its binary suffixes.
constexpr std::array size_options{"offload-threshold", "tc-flower-min-bytes", "max-header-bytes",
                                  "relay-buffer-bytes"};

// "4096", "64K", "1M", "1Mi", "2G" -> bytes (K = 1024, as in Ceph's size options).
std::optional<std::uint64_t> parse_size(std::string_view text)
{
    std::uint64_t number = 0;
    auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc{} || rest == text.data())
        return std::nullopt;
    std::string_view suffix(rest, text.data() + text.size() - rest);
    if (suffix.size() == 2 && suffix[1] == 'i')
        suffix.remove_suffix(1);
    unsigned shift = 0;
    if (suffix == "K")
        shift = 10;
    else if (suffix == "M")
        shift = 20;
    else if (suffix == "G")
        shift = 30;
    else if (suffix == "T")
        shift = 40;
    else if (!suffix.empty())
        return std::nullopt;
    if (number > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return std::nullopt;
    return number << shift;
}

// beast's endpoint value: ADDR, ADDR:PORT, [ADDR6] or [ADDR6]:PORT, port 80
// when absent.
std::string with_port(const std::string& value)
{
    bool has_port = value.starts_with('[') ? value.find("]:") != std::string::npos
                                           : value.find(':') != std::string::npos;
    return has_port ? value : value + ":80";
}

// beast's first endpoint= or port=, as the address xo-gateway connects to: a
// wildcard listens on loopback too.
Result<std::string> upstream_of(const FrontendEntry& beast)
{
    for (const auto& [key, value] : beast.settings) {
        if (key != "endpoint" && key != "port")
            continue;
        std::string error;
        auto endpoint = parse_endpoint(key == "port" ? "127.0.0.1:" + value : with_port(value), error);
        if (!endpoint)
            return Error{"beast " + key + "=" + value + ": " + error, 0};
        if (endpoint->address().is_v4() && endpoint->address().is_unspecified())
            endpoint->address(boost::asio::ip::address_v4::loopback());
        else if (endpoint->address().is_unspecified())
            endpoint->address(boost::asio::ip::address_v6::loopback());
        return to_string(*endpoint);
    }
    return Error{"the beast entry has no endpoint= or port=: xo-gateway relays plain HTTP to radosgw", 0};
}

const FrontendEntry* only(const std::vector<FrontendEntry>& entries, std::string_view framework, std::string& error)
{
    const FrontendEntry* found = nullptr;
    for (const auto& entry : entries) {
        if (entry.framework != framework)
            continue;
        if (found) {
            error = "more than one " + std::string(framework) + " entry";
            return nullptr;
        }
        found = &entry;
    }
    if (!found)
        error = "no " + std::string(framework) + " entry";
    return found;
}

} // namespace

Result<std::vector<FrontendEntry>> parse_rgw_frontends(std::string_view value)
{
    std::vector<FrontendEntry> entries;
    for (auto text : split(value, ",")) {
        FrontendEntry entry;
        for (auto word : split(trim(text), spaces)) {
            if (word.empty())
                continue;
            if (entry.framework.empty()) {
                entry.framework = word;
                continue;
            }
            auto equals = word.find('=');
            if (equals == 0)
                return Error{"setting without a key: '" + std::string(word) + "'", 0};
            if (equals == std::string_view::npos)
                entry.settings.emplace_back(word, "");
            else
                entry.settings.emplace_back(word.substr(0, equals), word.substr(equals + 1));
        }
        if (entry.framework.empty())
            return Error{"an empty entry in '" + std::string(value) + "'", 0};
        entries.push_back(std::move(entry));
    }
    return entries;
}

Result<std::vector<GatewaySetting>> gateway_settings(const std::vector<FrontendEntry>& entries)
{
    std::string error;
    const FrontendEntry* xo = only(entries, "xo", error);
    if (!xo)
        return Error{error + " (XO-Ceph is enabled by one, e.g. ', xo endpoint=0.0.0.0:80')", 0};
    std::vector<GatewaySetting> settings;
    for (const auto& [key, value] : xo->settings) {
        std::string option = key == "endpoint" ? "listen" : key;
        std::replace(option.begin(), option.end(), '_', '-');
        if (option == "config" || option == "name" || option == "help")
            return Error{"xo entry: '" + key + "' is a command-line option only", 0};
        auto same = [&](const GatewaySetting& s) { return s.first == option; };
        if (std::any_of(settings.begin(), settings.end(), same))
            return Error{"xo entry: '" + key + "' given twice", 0};
        std::string text = value;
        if (std::find(size_options.begin(), size_options.end(), option) != size_options.end()) {
            auto bytes = parse_size(value);
            if (!bytes)
                return Error{"xo entry: " + key + "=" + value + " is not a size (4096, 64K, 1M, 2G)", 0};
            text = std::to_string(*bytes);
        }
        settings.emplace_back(std::move(option), std::move(text));
    }
    auto has_upstream = [](const GatewaySetting& s) { return s.first == "upstream"; };
    if (std::none_of(settings.begin(), settings.end(), has_upstream)) {
        const FrontendEntry* beast = only(entries, "beast", error);
        if (!beast)
            return Error{error + ": xo-gateway relays to radosgw's beast frontend", 0};
        auto upstream = upstream_of(*beast);
        if (!upstream)
            return upstream.error();
        settings.emplace_back("upstream", *upstream);
    }
    return settings;
}

} // namespace xo::gw
