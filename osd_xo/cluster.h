// Theory of operation: one librados handle per process (a connection costs a
// monitor session and ~10 ms). Every monitor and OSD operation gets a
// timeout, so an unreachable cluster is an error after a bounded wait — at
// startup the daemon exits instead of hanging, and at runtime a stuck read
// fails the one stream it belongs to.
#pragma once

#include <rados/librados.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"

namespace xo::rsp {

struct ClusterSettings {
    std::string conf_path;   ///< ceph.conf
    std::string id = "admin"; ///< cephx id: client.<id>; needs osd 'allow r' on the data pool
    std::chrono::seconds timeout{10};
};

/** connect_cluster() - a connected handle, or an Error within about @settings.timeout. */
Result<std::unique_ptr<librados::Rados>> connect_cluster(const ClusterSettings& settings);

} // namespace xo::rsp
