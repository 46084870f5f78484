#include "rgw_xo/offload_service.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"

namespace xo::gw {

namespace {

/** log_sweep() - what a sweep did, when it did anything. */
void log_sweep(const bpf::FlowSweep& swept)
{
    if (swept.dead_blocks || swept.idle_orphans)
        log::info("flow table: removed ", swept.dead_blocks, " BLOCK and ", swept.idle_orphans,
                  " idle REDIRECT entries of dead gateways; ", swept.entries, " entries left");
}

/** start_flower() - sweep, probe and resolve --tc-flower on the NIC; null rules when off. */
Result<std::unique_ptr<flower::FlowerRules>> start_flower(const OffloadConfig& config, GatewayMetrics& metrics)
{
    auto setup = flower::FlowerRules::start(config.ifname, config.tc_flower);
    if (!setup)
        return with_context("--tc-flower " + std::string(steering::to_string(config.tc_flower)), setup.error());
    metrics.tc_flower().started(setup->mode, setup->caps);
    std::string found = setup->caps ? setup->caps->describe() : "not probed";
    if (setup->mode == steering::FlowerMode::off)
        log::info("TC flower: off (", setup->why_off, "); ", config.ifname, ": ", found);
    else
        log::info("TC flower: ", steering::to_string(setup->mode), " rules for flows with at least ",
                  config.tc_flower_min_bytes, " bytes to send, queue ", config.tc_flower_queue, "; ", config.ifname,
                  ": ", found);
    return std::move(setup->rules);
}

} // namespace

Result<std::unique_ptr<OffloadService>> OffloadService::start(const OffloadConfig& config, GatewayMetrics& metrics)
{
    auto ticket_keys = std::make_unique<handoff::KeyringFile>(config.ticket_key);
    if (auto keys = ticket_keys->keys(); !keys)
        return with_context("--ticket-key", keys.error());
    auto tls = handoff::ControlTls::make(handoff::ControlTls::Role::client, handoff::key_dir_source(config.channel_keys));
    if (!tls)
        return tls.error();

    rgw::LocatorConfig where;
    where.cluster.conf_path = config.ceph_conf;
    where.cluster.client_name = "client." + config.ceph_id;
    where.data_pool = config.data_pool;
    auto locator = rgw::Locator::create(where);
    if (!locator)
        return with_context("locator", locator.error());

    auto plane = bpf::GatewayDataPlane::open({config.instance});
    if (!plane)
        return plane.error();
    // Before attaching: no packet meets a predecessor's stale BLOCK under our program.
    auto swept = (*plane)->flows().sweep(config.orphan_idle, bpf::monotonic_ns());
    if (!swept)
        log::warn(swept.error().message, " (the periodic sweep tries again)");
    else if (swept->orphans)
        log::info("flow table: keeping ", swept->orphans, " REDIRECT entries of a previous gateway while "
                  "their transfers move");
    if (swept) {
        log_sweep(*swept);
        metrics.flow_table_swept(*swept);
    }
    auto preference = config.attach == "xdp" ? bpf::AttachPreference::xdp_native
                      : config.attach == "tc"  ? bpf::AttachPreference::tc
                                               : bpf::AttachPreference::automatic;
    auto mode = (*plane)->attach(config.ifname, preference);
    if (!mode) {
        plane->reset();
        (void)bpf::GatewayDataPlane::remove(config.instance);
        return mode.error();
    }
    log::info("offload: data plane on ", config.ifname, " (", bpf::to_string(*mode), "), threshold ",
              config.threshold, " bytes, responders on port ", config.responder_port);
    auto flower = start_flower(config, metrics);
    if (!flower) {
        plane->reset();
        (void)bpf::GatewayDataPlane::remove(config.instance);
        return flower.error();
    }
    return std::unique_ptr<OffloadService>(new OffloadService(config, std::move(ticket_keys), std::move(*tls),
                                                              std::move(*locator), std::move(*plane),
                                                              std::move(*flower), metrics));
}

OffloadService::OffloadService(const OffloadConfig& config, std::unique_ptr<handoff::KeyringFile> ticket_keys,
                               std::shared_ptr<handoff::ControlTls> tls, std::unique_ptr<rgw::Locator> locator,
                               std::unique_ptr<bpf::GatewayDataPlane> plane,
                               std::unique_ptr<flower::FlowerRules> flower_rules, GatewayMetrics& metrics)
    : config_(config), ticket_keys_(std::move(ticket_keys)), tls_(std::move(tls)), locator_(std::move(locator)),
      plane_(std::move(plane)), flower_rules_(std::move(flower_rules)),
      hybrid_(flower_rules_ ? std::make_unique<steering::HybridSteering>(
                                  plane_->flows(), *flower_rules_,
                                  steering::HybridOptions{.min_bytes = config.tc_flower_min_bytes,
                                                          .queue_capacity = config.tc_flower_queue})
                            : nullptr),
      offloader_(std::make_unique<handoff::Offloader>(
          flow_steering(), plane_->nic_mac(),
          handoff::OffloadTimeouts{.stall = std::chrono::seconds(config.stall_timeout)})),
      locator_threads_(config.locator_threads), metrics_(metrics),
      sweeper_(std::make_unique<PeriodicThread>(config.sweep_interval, [this] { sweep(); }))
{
}

handoff::FlowSteering& OffloadService::flow_steering()
{
    if (hybrid_)
        return *hybrid_;
    return plane_->flows();
}

Result<std::shared_ptr<const handoff::Keyring>> OffloadService::ticket_keys()
{
    return ticket_keys_->keys();
}

void OffloadService::sweep()
{
    if (hybrid_)
        metrics_.tc_flower().observe(hybrid_->stats());
    auto swept = plane_->flows().sweep(config_.orphan_idle, bpf::monotonic_ns());
    if (!swept) {
        log::warn(swept.error().message);
        return;
    }
    log_sweep(*swept);
    metrics_.flow_table_swept(*swept);
}

OffloadService::~OffloadService()
{
    sweeper_.reset();
    locator_threads_.join();
    offloader_.reset();
    hybrid_.reset();       // its worker removes every rule it put in
    flower_rules_.reset(); // sweeps our priority, deletes a clsact it created
    plane_.reset();        // detaches
    if (auto r = bpf::GatewayDataPlane::remove(config_.instance); !r)
        log::warn("removing the data plane's pins: ", r.error().message);
}

boost::asio::awaitable<Result<rgw::Location>> OffloadService::locate(rgw::ObjectName name)
{
    // co_spawn hands results over default-constructed: hence the optional.
    auto blocking = [this, name = std::move(name)]() -> boost::asio::awaitable<std::optional<Result<rgw::Location>>> {
        co_return locator_->locate(name);
    };
    auto located = co_await boost::asio::co_spawn(locator_threads_, blocking, boost::asio::use_awaitable);
    co_return std::move(*located);
}

} // namespace xo::gw
