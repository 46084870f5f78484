// Theory of operation: what every worker's offload path shares — one per
// gateway process, created before the workers start when offload is on.
//
//   data plane   gateway_ingress on the public NIC, its flow table pinned
//                under /sys/fs/bpf/xo/<instance>; detached and unpinned on
//                destruction, so a stopped gateway leaves nothing behind
//   sweeper      the flow table swept (FlowTable::sweep) once before the
//                program is attached — what a killed predecessor left: its
//                BLOCKs go, its REDIRECTs stay while their transfers move —
//                and then every --flow-sweep-interval on a thread of its own,
//                reporting to the metrics
//   TC flower    unless --tc-flower resolves to off on this kernel and NIC:
//                the flower backend (bpf/flower/) on the public NIC, and
//                HybridSteering (common/steering/) over the flow table and
//                that backend — its worker inserts a rule for each long flow
//                in the background; the probe's findings and the mode go to
//                the log and the metrics, the queue's to the metrics at
//                every sweep
//   Offloader    the handoff engine over the hybrid steering, or the flow
//                table alone (stateless per flow)
//   control TLS  client-role PSK context
//   ticket keys  the --ticket-key file (KeyringFile): tickets are signed with
//                its current key, and a rewritten file is picked up at the
//                next offload without a restart (key rotation)
//   Locator      bucket + key → head object → acting primary → host; its
//                librados calls block, so locate() runs them on a small thread
//                pool of its own and resumes the caller on its own executor
//
// Everything here is safe to use from any worker thread: the flow table is
// a kernel map, HybridSteering locks its own bookkeeping, the Offloader keeps no per-flow state, the Locator is
// thread-safe, the TLS context is read-only after creation and KeyringFile
// is thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <memory>

#include "bpf/flower/flower_rules.h"
#include "bpf/gateway_data_plane.h"
#include "common/handoff/control_tls.h"
#include "common/handoff/offloader.h"
#include "common/handoff/psk.h"
#include "common/periodic_thread.h"
#include "common/steering/hybrid_steering.h"
#include "rgw_xo/gateway_config.h"
#include "rgw_xo/gateway_metrics.h"
#include "rgw_xo/locator.h"

namespace xo::gw {

class OffloadService {
public:
    /**
     * start() - load the key, connect to the cluster, sweep and attach the data plane.
     * @metrics: where the sweeps report (outlives the service).
     * Return: the service, or an error naming what failed.
     */
    static Result<std::unique_ptr<OffloadService>> start(const OffloadConfig& config, GatewayMetrics& metrics);

    ~OffloadService();
    OffloadService(const OffloadService&) = delete;
    OffloadService& operator=(const OffloadService&) = delete;

    /** locate() - rgw::Locator::locate() off the caller's thread. */
    boost::asio::awaitable<Result<rgw::Location>> locate(rgw::ObjectName name);

    handoff::Offloader& offloader() { return *offloader_; }
    const std::shared_ptr<handoff::ControlTls>& tls() const { return tls_; }
    /** ticket_keys() - the ticket key file as it is now; tickets are signed with its current(). */
    Result<std::shared_ptr<const handoff::Keyring>> ticket_keys();
    const OffloadConfig& config() const { return config_; }

    /** register_service() - rgw::RadosCluster::register_service() on the locator's connection. */
    Result<void> register_service(const std::string& service, const std::string& daemon,
                                  const std::vector<std::pair<std::string, std::string>>& metadata)
    {
        return locator_->cluster().register_service(service, daemon, metadata);
    }

private:
    OffloadService(const OffloadConfig& config, std::unique_ptr<handoff::KeyringFile> ticket_keys, std::shared_ptr<handoff::ControlTls> tls,
                   std::unique_ptr<rgw::Locator> locator, std::unique_ptr<bpf::GatewayDataPlane> plane,
                   std::unique_ptr<flower::FlowerRules> flower_rules, GatewayMetrics& metrics);

    /** flow_steering() - what the engine steers flows through: the hybrid steering if on, else the table. */
    handoff::FlowSteering& flow_steering();

    /** sweep() - one sweep of the flow table, reported to the metrics. */
    void sweep();

    OffloadConfig config_;
    std::unique_ptr<handoff::KeyringFile> ticket_keys_;
    std::shared_ptr<handoff::ControlTls> tls_;
    std::unique_ptr<rgw::Locator> locator_;
    std::unique_ptr<bpf::GatewayDataPlane> plane_;
    std::unique_ptr<flower::FlowerRules> flower_rules_;  ///< null: TC flower off
    std::unique_ptr<steering::HybridSteering> hybrid_; ///< over plane_ and flower_rules_; null with them
    std::unique_ptr<handoff::Offloader> offloader_;
    boost::asio::thread_pool locator_threads_;
    GatewayMetrics& metrics_;
    std::unique_ptr<PeriodicThread> sweeper_; ///< stopped before hybrid_ and plane_ go
};

} // namespace xo::gw
