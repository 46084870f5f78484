// ResponderDataPlane: load with pinned maps, TC egress attach, detach, remove.
#include "bpf/responder_data_plane.h"

#include <cerrno>

#include "bpf/bpffs.h"
#include "common/log.h"
#include "bpf/netdev.h"
#include "responder_egress.skel.h"

namespace xo::bpf {
namespace {

constexpr const char* kProgName = "xo_rsp_egress";

} // namespace

ResponderDataPlane::ResponderDataPlane(responder_egress_bpf* skel, EntryOwner owner)
    : skel_(skel), rewrites_(bpf_map__fd(skel->maps.xo_rsp_rewrites), owner)
{
}

ResponderDataPlane::~ResponderDataPlane()
{
    if (auto r = detach(); !r)
        log::warn("responder data plane: ", r.error().message);
    responder_egress_bpf__destroy(skel_);
}

Result<std::unique_ptr<ResponderDataPlane>> ResponderDataPlane::open(const DataPlaneOptions& options)
{
    auto owner = this_process(); // the owner of every entry we write
    if (!owner)
        return with_context("identify this process", owner.error());
    auto dir = prepare_pin_dir(options.instance);
    if (!dir)
        return dir.error();
    responder_egress_bpf* skel = responder_egress_bpf__open();
    if (!skel)
        return Error::from_errno("open responder_egress BPF object");
    if (auto r = configure_maps(skel->obj, *dir, options.max_flows); !r) {
        responder_egress_bpf__destroy(skel);
        return r.error();
    }
    if (int err = responder_egress_bpf__load(skel); err) {
        responder_egress_bpf__destroy(skel);
        return Error::from_errno("load responder_egress (pinned maps in " + *dir +
                                     " must match in size)",
                                 -err);
    }
    return std::unique_ptr<ResponderDataPlane>(new ResponderDataPlane(skel, *owner));
}

Result<void> ResponderDataPlane::remove(const std::string& instance)
{
    responder_egress_bpf* skel = responder_egress_bpf__open();
    if (!skel)
        return Error::from_errno("open responder_egress BPF object");
    auto r = remove_pins(skel->obj, instance);
    responder_egress_bpf__destroy(skel);
    return r;
}

Result<void> ResponderDataPlane::attach(const std::string& ifname)
{
    if (tc_.attached())
        return Error{"responder data plane already attached", EALREADY};
    auto ifindex = ifindex_of(ifname);
    if (!ifindex)
        return ifindex.error();
    auto tc = TcAttachment::attach(*ifindex, BPF_TC_EGRESS, program_fd(), kProgName);
    if (!tc)
        return tc.error();
    tc_ = std::move(*tc);
    return {};
}

Result<void> ResponderDataPlane::detach()
{
    return tc_.detach();
}

int ResponderDataPlane::program_fd() const
{
    return bpf_program__fd(skel_->progs.xo_rsp_egress);
}

} // namespace xo::bpf
