// Theory of operation: one librados cluster handle per process (connecting
// costs ~10 ms and a monitor session). The handle is created through the C
// API because only that API can subscribe to the monitor's cluster log
// (rados_monitor_log2); the C++ API object wraps the same client
// (Rados::from_rados_t takes a reference) and is destroyed first, so the C
// handle's rados_shutdown() is the last owner. (Rados::shutdown() drops its
// reference without forgetting the client, so it must run exactly once: by
// the C++ object's destructor, never explicitly.) Monitor and OSD operations get
// timeouts, so a dead cluster is an error after a bounded wait, never a hang.
#pragma once

#include <rados/librados.h>
#include <rados/librados.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace xo::rgw {

/** Where and as whom to connect. */
struct ClusterConfig {
    std::string conf_path;                                  ///< ceph.conf; empty: Ceph's search
    std::string client_name = "client.admin";               ///< needs mon 'allow r', osd 'allow r'
    std::chrono::seconds operation_timeout{10};             ///< per mon/OSD operation

    /** conf_name() - @conf_path, or what an empty one means, for messages. */
    std::string conf_name() const { return "ceph.conf " + (conf_path.empty() ? "($CEPH_CONF or the default search)" : conf_path); }
};

class RadosCluster {
public:
    /** connect() - create, configure and connect a handle per @config. */
    static Result<std::unique_ptr<RadosCluster>> connect(const ClusterConfig& config);

    ~RadosCluster();
    RadosCluster(const RadosCluster&) = delete;
    RadosCluster& operator=(const RadosCluster&) = delete;

    /** rados() - the C++ API view of the handle. */
    librados::Rados& rados() { return *cpp_; }

    /**
     * mon_command() - run one monitor command.
     * @json: the command, e.g. {"prefix":"osd map",...,"format":"json"}
     * Return: the answer's data, or an Error with the monitor's status text.
     */
    Result<std::string> mon_command(const std::string& json);

    /**
     * watch_osdmap_epochs() - call @on_epoch with N for every "osdmap eN" line the
     * monitor pushes from now on. @on_epoch runs on a librados thread and must
     * not block or call into librados. Only one watcher per handle.
     * Return: an Error if the monitor refused the subscription.
     */
    Result<void> watch_osdmap_epochs(std::function<void(uint64_t)> on_epoch);

    /** unwatch_osdmap_epochs() - stop the callbacks; none runs after this returns. */
    void unwatch_osdmap_epochs();

    /**
     * register_service() - appear in the manager's service map (`ceph -s`,
     * `ceph service dump`) as @daemon of @service with static @metadata, for as
     * long as this handle lives; librados sends the beacons. Without a running
     * manager the registration waits for one.
     */
    Result<void> register_service(const std::string& service, const std::string& daemon,
                                  const std::vector<std::pair<std::string, std::string>>& metadata);

private:
    explicit RadosCluster(rados_t handle);

    static void on_log(void* arg, const char* line, const char* channel, const char* who, const char* name,
                       uint64_t sec, uint64_t nsec, uint64_t seq, const char* level, const char* message);

    rados_t handle_;
    std::unique_ptr<librados::Rados> cpp_; ///< destroyed (its reference dropped) before handle_
    std::function<void(uint64_t)> on_epoch_;
};

} // namespace xo::rgw
