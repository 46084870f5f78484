#include "rgw_xo/rgw_frontends_option.h"

#include <rados/librados.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "rgw_xo/rados_cluster.h"

namespace xo::gw {

namespace {

constexpr const char* option = "rgw_frontends";

// Where resolve() takes the option from: ceph.conf or nothing but the default.
enum class From { file, defaults };

// The option as librados resolves it for @name: from the ceph.conf at
// @conf_path (Ceph's own search when empty) or from the compiled-in defaults.
Result<std::string> resolve(const std::string& name, From from, const std::string& conf_path)
{
    rados_t handle = nullptr;
    if (int r = rados_create2(&handle, "ceph", name.c_str(), 0); r < 0)
        return Error::from_errno("rados_create2 as " + name, -r);
    std::array<char, 4096> value{};
    int r = from == From::file ? rados_conf_read_file(handle, conf_path.empty() ? nullptr : conf_path.c_str()) : 0;
    if (r == 0)
        r = rados_conf_get(handle, option, value.data(), value.size());
    rados_shutdown(handle); // never connected: frees the configuration only
    if (r < 0)
        return Error::from_errno(from == From::file ? std::string("read ") + option + " of " + name + " from " +
                                                          rgw::ClusterConfig{conf_path}.conf_name()
                                                    : std::string("the default of ") + option,
                                 -r);
    return std::string(value.data());
}

std::string trimmed(std::string text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

} // namespace

Result<FrontendsOption> read_rgw_frontends(const FrontendsQuery& query)
{
    // Checked before it is spliced into the monitor command's JSON.
    auto bad = [](char c) { return !std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_'; };
    if (!query.name.starts_with("client.") || std::any_of(query.name.begin(), query.name.end(), bad))
        return Error{"a radosgw instance is named client.<id> (letters, digits, . - _), e.g. client.rgw.gw", 0};
    auto from_file = resolve(query.name, From::file, query.conf_path);
    if (!from_file)
        return from_file.error();
    auto fallback = resolve(query.name, From::defaults, query.conf_path);
    if (!fallback)
        return fallback.error();
    if (*from_file != *fallback)
        return FrontendsOption{*from_file, rgw::ClusterConfig{query.conf_path}.conf_name()};

    auto cluster = rgw::RadosCluster::connect({query.conf_path, "client." + query.ceph_id, query.timeout});
    if (!cluster)
        return with_context("ask the monitors for " + query.name + "'s " + option, cluster.error());
    auto answer = (*cluster)->mon_command(R"({"prefix":"config get","who":")" + query.name + R"(","key":")" +
                                          option + R"("})");
    if (!answer)
        return answer.error();
    return FrontendsOption{trimmed(*answer), "the monitors' config database"};
}

} // namespace xo::gw
