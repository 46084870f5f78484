// The cluster handle of rados_cluster.h.
#include "rgw_xo/rados_cluster.h"

#include "rgw_xo/osd_map_json.h"

namespace xo::rgw {

Result<std::unique_ptr<RadosCluster>> RadosCluster::connect(const ClusterConfig& config)
{
    rados_t handle = nullptr;
    if (int r = rados_create2(&handle, "ceph", config.client_name.c_str(), 0); r < 0)
        return Error::from_errno("rados_create2 as " + config.client_name, -r);
    auto fail = [&](const std::string& what, int r) {
        rados_shutdown(handle);
        return Error::from_errno(what, -r);
    };
    if (int r = rados_conf_read_file(handle, config.conf_path.empty() ? nullptr : config.conf_path.c_str()); r < 0)
        return fail("read " + config.conf_name(), r);
    const std::string timeout = std::to_string(config.operation_timeout.count());
    for (const char* option : {"rados_mon_op_timeout", "rados_osd_op_timeout", "client_mount_timeout"}) {
        if (int r = rados_conf_set(handle, option, timeout.c_str()); r < 0)
            return fail(std::string("set ") + option, r);
    }
    if (int r = rados_connect(handle); r < 0)
        return fail("connect to the cluster of " + config.conf_name(), r);
    return std::unique_ptr<RadosCluster>(new RadosCluster(handle));
}

RadosCluster::RadosCluster(rados_t handle) : handle_(handle), cpp_(std::make_unique<librados::Rados>())
{
    librados::Rados::from_rados_t(handle_, *cpp_);
}

RadosCluster::~RadosCluster()
{
    unwatch_osdmap_epochs();
    cpp_.reset(); // drops the C++ reference; the C handle still owns the client
    rados_shutdown(handle_);
}

Result<std::string> RadosCluster::mon_command(const std::string& json)
{
    librados::bufferlist in, out;
    std::string status;
    if (int r = cpp_->mon_command(json, in, &out, &status); r < 0)
        return Error::from_errno("mon command " + json + " (" + status + ")", -r);
    return out.to_str();
}

Result<void> RadosCluster::watch_osdmap_epochs(std::function<void(uint64_t)> on_epoch)
{
    if (on_epoch_)
        return Error{"watch_osdmap_epochs: already watching", 0};
    on_epoch_ = std::move(on_epoch);
    // The monitor logs every new OSD map at level "debug".
    if (int r = rados_monitor_log2(handle_, "debug", &RadosCluster::on_log, this); r < 0) {
        on_epoch_ = nullptr;
        return Error::from_errno("subscribe to the monitor's cluster log", -r);
    }
    return {};
}

void RadosCluster::unwatch_osdmap_epochs()
{
    if (!on_epoch_)
        return;
    rados_monitor_log2(handle_, "debug", nullptr, nullptr); // deregisters under librados' log lock
    on_epoch_ = nullptr;
}

Result<void> RadosCluster::register_service(const std::string& service, const std::string& daemon,
                                            const std::vector<std::pair<std::string, std::string>>& metadata)
{
    // librados' dict encoding: key\0value\0 ... and an empty key to end.
    std::string dict;
    for (const auto& [key, value] : metadata) {
        dict.append(key).push_back('\0');
        dict.append(value).push_back('\0');
    }
    dict.push_back('\0');
    if (int r = rados_service_register(handle_, service.c_str(), daemon.c_str(), dict.data()); r < 0)
        return Error::from_errno("register " + service + "." + daemon + " in the service map", -r);
    return {};
}

void RadosCluster::on_log(void* arg, const char*, const char*, const char*, const char*, uint64_t, uint64_t,
                          uint64_t, const char*, const char* message)
{
    auto* self = static_cast<RadosCluster*>(arg);
    if (auto epoch = osdmap_epoch_from_log(message ? message : ""))
        self->on_epoch_(*epoch);
}

} // namespace xo::rgw
