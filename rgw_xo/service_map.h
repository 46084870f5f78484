// Theory of operation: Ceph operators look for daemons in `ceph -s` and
// `ceph service dump`, which list what registered in the manager's service
// map. radosgw registers as service "rgw"; xo-gateway registers beside it as
// service "xo-gateway" over the RADOS connection its locator already holds
// (librados' public rados_service_register(), no radosgw build needed), named
// after the radosgw instance it fronts (--name client.rgw.gw -> "rgw.gw") or,
// without --name, after its data plane instance. The metadata is static: what
// an operator needs to find and identify it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rgw_xo/gateway_config.h"

namespace xo::gw {

/** service_daemon_name() - this gateway's name in the service map. */
std::string service_daemon_name(const GatewayConfig& config);

/** service_metadata() - the key/value pairs shown for it in `ceph service dump`. */
std::vector<std::pair<std::string, std::string>> service_metadata(const GatewayConfig& config);

} // namespace xo::gw
