// Theory of operation: where the `rgw frontends` value of a radosgw instance
// comes from, by Ceph's precedence. radosgw reads its options from the
// monitors' config database and then from ceph.conf, the file winning; xo-
// gateway, started as `xo-gateway --name client.rgw.<id>`, reads the same two
// sources for that name:
//
//   1. ceph.conf, through librados as the instance (sections [global],
//      [client], [client.rgw], [client.rgw.<id>] and $-expansion, exactly as
//      radosgw sees them). Reading the file needs no key. A value that differs
//      from the compiled-in default is the file's.
//   2. Otherwise the monitors, asked with `config get client.rgw.<id>
//      rgw_frontends` over xo-gateway's own RADOS identity (mon 'allow r' is
//      enough), so that xo-gateway never needs radosgw's key.
//
// A file that sets the option to exactly its default is indistinguishable
// from one that does not set it; then the monitors' value is used, which is
// also the default unless an operator set one there.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace xo::gw {

/** struct FrontendsQuery - whose `rgw frontends`, and how to reach the cluster. */
struct FrontendsQuery {
    std::string name;      ///< radosgw instance, "client.rgw.<id>"
    std::string conf_path; ///< ceph.conf
    std::string ceph_id;   ///< xo-gateway's own id (client.<id>) for asking the monitors
    std::chrono::seconds timeout{10};
};

/** struct FrontendsOption - the value and where it was found, for messages. */
struct FrontendsOption {
    std::string value;
    std::string source; ///< "ceph.conf <path>" (ClusterConfig::conf_name()) or "the monitors' config database"
};

/**
 * read_rgw_frontends() - the `rgw frontends` radosgw @query.name runs with.
 * Return: the value and its source, or an Error (unreadable ceph.conf, no
 * monitor reachable within @query.timeout, a refused command).
 */
Result<FrontendsOption> read_rgw_frontends(const FrontendsQuery& query);

} // namespace xo::gw
