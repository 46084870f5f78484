#include "osd_xo/cluster.h"

namespace xo::rsp {

Result<std::unique_ptr<librados::Rados>> connect_cluster(const ClusterSettings& settings)
{
    auto rados = std::make_unique<librados::Rados>();
    if (int r = rados->init(settings.id.c_str()); r < 0)
        return Error::from_errno("rados init as client." + settings.id, -r);
    if (int r = rados->conf_read_file(settings.conf_path.empty() ? nullptr : settings.conf_path.c_str()); r < 0)
        return Error::from_errno("reading ceph config " + settings.conf_path, -r);
    const std::string timeout = std::to_string(settings.timeout.count());
    for (const char* option : {"rados_mon_op_timeout", "rados_osd_op_timeout", "client_mount_timeout"}) {
        if (int r = rados->conf_set(option, timeout.c_str()); r < 0)
            return Error::from_errno(std::string("setting ") + option, -r);
    }
    if (int r = rados->connect(); r < 0)
        return Error::from_errno("connecting to the cluster of " + settings.conf_path, -r);
    return rados;
}

} // namespace xo::rsp
