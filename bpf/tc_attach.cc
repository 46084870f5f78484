// TcAttachment: clsact hook and direct-action BPF filter management.
#include "bpf/tc_attach.h"

#include <cerrno>
#include <utility>

#include "bpf/prog_name.h"

namespace xo::bpf {
namespace {

constexpr std::uint32_t kHandle = 0x7830;   // our filter slot on every hook
constexpr std::uint32_t kPriority = 0x7830;

bpf_tc_hook make_hook(int ifindex, bpf_tc_attach_point point)
{
    bpf_tc_hook hook {};
    hook.sz = sizeof(hook);
    hook.ifindex = ifindex;
    hook.attach_point = point;
    return hook;
}

bpf_tc_opts slot_opts()
{
    bpf_tc_opts opts {};
    opts.sz = sizeof(opts);
    opts.handle = kHandle;
    opts.priority = kPriority;
    return opts;
}

std::string where(int ifindex, bpf_tc_attach_point point)
{
    return std::string(point == BPF_TC_INGRESS ? "TC ingress" : "TC egress") + " of ifindex " +
           std::to_string(ifindex);
}

/** slot_program() - id of the program at our slot, 0 if the slot is empty. */
Result<std::uint32_t> slot_program(bpf_tc_hook& hook)
{
    bpf_tc_opts opts = slot_opts();
    int err = bpf_tc_query(&hook, &opts);
    if (err == -ENOENT || err == -EINVAL) // EINVAL: no clsact qdisc at all
        return 0u;
    if (err)
        return Error::from_errno("query " + where(hook.ifindex, hook.attach_point), -err);
    return opts.prog_id;
}

} // namespace

TcAttachment::TcAttachment(TcAttachment&& other) noexcept
    : ifindex_(std::exchange(other.ifindex_, 0)), point_(other.point_),
      created_qdisc_(std::exchange(other.created_qdisc_, false))
{
}

TcAttachment& TcAttachment::operator=(TcAttachment&& other) noexcept
{
    if (this != &other) {
        (void)detach();
        ifindex_ = std::exchange(other.ifindex_, 0);
        point_ = other.point_;
        created_qdisc_ = std::exchange(other.created_qdisc_, false);
    }
    return *this;
}

TcAttachment::~TcAttachment()
{
    (void)detach();
}

Result<TcAttachment> TcAttachment::attach(int ifindex, bpf_tc_attach_point point, int prog_fd,
                                          const std::string& prog_name)
{
    bpf_tc_hook hook = make_hook(ifindex, point);
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST)
        return Error::from_errno("create clsact on ifindex " + std::to_string(ifindex), -err);
    bool created = err == 0;

    auto existing = slot_program(hook);
    if (!existing)
        return existing.error();
    bpf_tc_opts opts = slot_opts();
    opts.prog_fd = prog_fd;
    if (*existing) {
        if (!is_ours(*existing, prog_name))
            return Error{where(ifindex, point) + ": our filter slot holds another program", EBUSY};
        opts.flags = BPF_TC_F_REPLACE;
    }
    if ((err = bpf_tc_attach(&hook, &opts))) {
        if (created) {
            hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
            bpf_tc_hook_destroy(&hook);
        }
        return Error::from_errno("attach filter to " + where(ifindex, point), -err);
    }
    TcAttachment attachment;
    attachment.ifindex_ = ifindex;
    attachment.point_ = point;
    attachment.created_qdisc_ = created;
    return attachment;
}

Result<void> TcAttachment::detach()
{
    if (!attached())
        return {};
    bpf_tc_hook hook = make_hook(std::exchange(ifindex_, 0), point_);
    bpf_tc_opts opts = slot_opts();
    int err = bpf_tc_detach(&hook, &opts);
    if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
        return Error::from_errno("detach filter from " + where(hook.ifindex, point_), -err);
    if (std::exchange(created_qdisc_, false)) {
        hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        err = bpf_tc_hook_destroy(&hook);
        if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
            return Error::from_errno("delete clsact of ifindex " + std::to_string(hook.ifindex), -err);
    }
    return {};
}

Result<void> remove_stale_tc(int ifindex, bpf_tc_attach_point point, const std::string& prog_name)
{
    bpf_tc_hook hook = make_hook(ifindex, point);
    auto existing = slot_program(hook);
    if (!existing)
        return existing.error();
    if (!*existing || !is_ours(*existing, prog_name))
        return {};
    bpf_tc_opts opts = slot_opts();
    if (int err = bpf_tc_detach(&hook, &opts); err)
        return Error::from_errno("remove stale filter from " + where(ifindex, point), -err);
    return {};
}

} // namespace xo::bpf
