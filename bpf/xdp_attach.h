// Theory of operation: a native (driver-mode) XDP attachment owned by one
// object. attach() refuses to displace somebody else's native program, but
// atomically replaces a stale one of our own (same program name, left by a
// crashed or killed predecessor), so traffic never sees a gap. detach() is
// conditional too (XDP_FLAGS_REPLACE with our descriptor): it never removes
// a program that replaced ours meanwhile. The attachment borrows the program
// descriptor; its owner keeps the program loaded while attached.
#pragma once

#include <string>

#include "common/result.h"

namespace xo::bpf {

class XdpAttachment {
public:
    XdpAttachment() = default;
    XdpAttachment(XdpAttachment&& other) noexcept;
    XdpAttachment& operator=(XdpAttachment&& other) noexcept;
    XdpAttachment(const XdpAttachment&) = delete;
    XdpAttachment& operator=(const XdpAttachment&) = delete;
    ~XdpAttachment();

    /**
     * attach() - attach @prog_fd in native mode to @ifindex.
     * @ifindex: the device.
     * @prog_fd: the XDP program.
     * @prog_name: its name, to recognise stale copies of it.
     *
     * Return: the attachment; EOPNOTSUPP if the driver has no native XDP,
     * EBUSY if another program holds the device.
     */
    static Result<XdpAttachment> attach(int ifindex, int prog_fd, const std::string& prog_name);

    /** detach() - remove our program if it is still the one attached. */
    Result<void> detach();

    bool attached() const { return ifindex_ != 0; }

private:
    int ifindex_ = 0;
    int prog_fd_ = -1;
};

/**
 * remove_stale_xdp() - detach any XDP program named @prog_name from @ifindex.
 * @ifindex: the device.
 * @prog_name: the name of our program.
 *
 * Programs of other names stay. Return: error only if a removal failed.
 */
Result<void> remove_stale_xdp(int ifindex, const std::string& prog_name);

} // namespace xo::bpf
