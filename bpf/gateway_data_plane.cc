// GatewayDataPlane: load with pinned maps, XDP-or-TC attach, detach, remove.
#include "bpf/gateway_data_plane.h"

#include <cerrno>

#include "bpf/bpffs.h"
#include "gateway_ingress.skel.h"
#include "common/log.h"
#include "bpf/netdev.h"

namespace xo::bpf {
namespace {

constexpr const char* kXdpName = "xo_gw_xdp";
constexpr const char* kTcName = "xo_gw_tc";

} // namespace

const char* to_string(AttachMode mode)
{
    return mode == AttachMode::xdp_native ? "xdp-native" : "tc";
}

GatewayDataPlane::GatewayDataPlane(gateway_ingress_bpf* skel, EntryOwner owner)
    : skel_(skel), flows_(bpf_map__fd(skel->maps.xo_gw_flows), owner)
{
}

GatewayDataPlane::~GatewayDataPlane()
{
    if (auto r = detach(); !r)
        log::warn("gateway data plane: ", r.error().message);
    gateway_ingress_bpf__destroy(skel_);
}

Result<std::unique_ptr<GatewayDataPlane>> GatewayDataPlane::open(const DataPlaneOptions& options)
{
    auto owner = this_process(); // the owner of every entry we write
    if (!owner)
        return with_context("identify this process", owner.error());
    auto dir = prepare_pin_dir(options.instance);
    if (!dir)
        return dir.error();
    gateway_ingress_bpf* skel = gateway_ingress_bpf__open();
    if (!skel)
        return Error::from_errno("open gateway_ingress BPF object");
    if (auto r = configure_maps(skel->obj, *dir, options.max_flows); !r) {
        gateway_ingress_bpf__destroy(skel);
        return r.error();
    }
    if (int err = gateway_ingress_bpf__load(skel); err) {
        gateway_ingress_bpf__destroy(skel);
        return Error::from_errno("load gateway_ingress (pinned maps in " + *dir +
                                     " must match in size)",
                                 -err);
    }
    return std::unique_ptr<GatewayDataPlane>(new GatewayDataPlane(skel, *owner));
}

Result<void> GatewayDataPlane::remove(const std::string& instance)
{
    gateway_ingress_bpf* skel = gateway_ingress_bpf__open();
    if (!skel)
        return Error::from_errno("open gateway_ingress BPF object");
    auto r = remove_pins(skel->obj, instance);
    gateway_ingress_bpf__destroy(skel);
    return r;
}

Result<AttachMode> GatewayDataPlane::attach(const std::string& ifname, AttachPreference preference)
{
    if (xdp_.attached() || tc_.attached())
        return Error{"gateway data plane already attached", EALREADY};
    auto ifindex = ifindex_of(ifname);
    if (!ifindex)
        return ifindex.error();
    auto mac = mac_of(ifname);
    if (!mac)
        return mac.error();
    nic_mac_ = *mac;

    if (preference != AttachPreference::tc) {
        auto xdp = XdpAttachment::attach(*ifindex, xdp_program_fd(), kXdpName);
        if (xdp) {
            xdp_ = std::move(*xdp);
            // A leftover TC copy sees only what XDP passes and uses the same
            // pinned table: worth a warning, not a failed attach.
            if (auto r = remove_stale_tc(*ifindex, BPF_TC_INGRESS, kTcName); !r)
                log::warn("gateway data plane: ", r.error().message);
            return AttachMode::xdp_native;
        }
        if (preference == AttachPreference::xdp_native)
            return xdp.error();
        log::info("gateway data plane: no native XDP on ", ifname, " (", xdp.error().message,
                  "), using TC ingress");
    }
    auto tc = TcAttachment::attach(*ifindex, BPF_TC_INGRESS, tc_program_fd(), kTcName);
    if (!tc)
        return tc.error();
    tc_ = std::move(*tc);
    // A leftover XDP copy would act before TC on the same pinned table.
    if (auto r = remove_stale_xdp(*ifindex, kXdpName); !r)
        log::warn("gateway data plane: ", r.error().message);
    return AttachMode::tc;
}

Result<void> GatewayDataPlane::detach()
{
    auto xdp = xdp_.detach();
    auto tc = tc_.detach();
    return xdp ? tc : xdp;
}

int GatewayDataPlane::xdp_program_fd() const
{
    return bpf_program__fd(skel_->progs.xo_gw_xdp);
}

int GatewayDataPlane::tc_program_fd() const
{
    return bpf_program__fd(skel_->progs.xo_gw_tc);
}

} // namespace xo::bpf
