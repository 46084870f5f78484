// XdpAttachment: conditional native XDP attach/replace/detach over netlink.
#include "bpf/xdp_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "bpf/prog_name.h"

namespace xo::bpf {
namespace {

/** replace_xdp() - swap program @old_id for @new_fd (-1: detach) in @mode. */
Result<void> replace_xdp(int ifindex, std::uint32_t old_id, int new_fd, std::uint32_t mode)
{
    int old_fd = bpf_prog_get_fd_by_id(old_id);
    if (old_fd < 0)
        return Error::from_errno("open XDP program " + std::to_string(old_id));
    bpf_xdp_attach_opts opts {};
    opts.sz = sizeof(opts);
    opts.old_prog_fd = old_fd;
    int err = bpf_xdp_attach(ifindex, new_fd, mode | XDP_FLAGS_REPLACE, &opts);
    close(old_fd);
    if (err)
        return Error::from_errno("replace XDP program on ifindex " + std::to_string(ifindex), -err);
    return {};
}

Result<bpf_xdp_query_opts> query_xdp(int ifindex)
{
    bpf_xdp_query_opts query {};
    query.sz = sizeof(query);
    if (int err = bpf_xdp_query(ifindex, 0, &query); err)
        return Error::from_errno("query XDP on ifindex " + std::to_string(ifindex), -err);
    return query;
}

} // namespace

XdpAttachment::XdpAttachment(XdpAttachment&& other) noexcept
    : ifindex_(std::exchange(other.ifindex_, 0)), prog_fd_(std::exchange(other.prog_fd_, -1))
{
}

XdpAttachment& XdpAttachment::operator=(XdpAttachment&& other) noexcept
{
    if (this != &other) {
        (void)detach();
        ifindex_ = std::exchange(other.ifindex_, 0);
        prog_fd_ = std::exchange(other.prog_fd_, -1);
    }
    return *this;
}

XdpAttachment::~XdpAttachment()
{
    (void)detach();
}

Result<XdpAttachment> XdpAttachment::attach(int ifindex, int prog_fd, const std::string& prog_name)
{
    auto query = query_xdp(ifindex);
    if (!query)
        return query.error();
    if (query->skb_prog_id && is_ours(query->skb_prog_id, prog_name)) {
        if (auto r = replace_xdp(ifindex, query->skb_prog_id, -1, XDP_FLAGS_SKB_MODE); !r)
            return r.error();
    }
    if (query->drv_prog_id) {
        if (!is_ours(query->drv_prog_id, prog_name))
            return Error{"ifindex " + std::to_string(ifindex) + " already has another XDP program",
                         EBUSY};
        if (auto r = replace_xdp(ifindex, query->drv_prog_id, prog_fd, XDP_FLAGS_DRV_MODE); !r)
            return r.error();
    } else if (int err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, nullptr); err) {
        return Error::from_errno("attach native XDP on ifindex " + std::to_string(ifindex), -err);
    }
    XdpAttachment attachment;
    attachment.ifindex_ = ifindex;
    attachment.prog_fd_ = prog_fd;
    return attachment;
}

Result<void> XdpAttachment::detach()
{
    if (!attached())
        return {};
    bpf_xdp_attach_opts opts {};
    opts.sz = sizeof(opts);
    opts.old_prog_fd = prog_fd_;
    int err = bpf_xdp_attach(ifindex_, -1, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &opts);
    int ifindex = std::exchange(ifindex_, 0);
    prog_fd_ = -1;
    // ENODEV: the device is gone; EEXIST: ours was already replaced.
    if (err && err != -ENODEV && err != -EEXIST)
        return Error::from_errno("detach XDP from ifindex " + std::to_string(ifindex), -err);
    return {};
}

Result<void> remove_stale_xdp(int ifindex, const std::string& prog_name)
{
    auto query = query_xdp(ifindex);
    if (!query)
        return query.error();
    if (query->drv_prog_id && is_ours(query->drv_prog_id, prog_name))
        return replace_xdp(ifindex, query->drv_prog_id, -1, XDP_FLAGS_DRV_MODE);
    if (query->skb_prog_id && is_ours(query->skb_prog_id, prog_name))
        return replace_xdp(ifindex, query->skb_prog_id, -1, XDP_FLAGS_SKB_MODE);
    return {};
}

} // namespace xo::bpf
