// Theory of operation: a clsact TC filter owned by one object. Every XO
// program sits at one fixed handle and priority on its hook, so a stale
// filter left by a crashed predecessor is found by a query and replaced in
// place (BPF_TC_F_REPLACE: no gap in which packets go unhandled), while a
// foreign filter at that slot is an error rather than a casualty. The clsact
// qdisc is created when missing and deleted again on detach only by the
// attachment that created it. The program descriptor is borrowed.
#pragma once

#include <bpf/libbpf.h>

#include <string>

#include "common/result.h"

namespace xo::bpf {

class TcAttachment {
public:
    TcAttachment() = default;
    TcAttachment(TcAttachment&& other) noexcept;
    TcAttachment& operator=(TcAttachment&& other) noexcept;
    TcAttachment(const TcAttachment&) = delete;
    TcAttachment& operator=(const TcAttachment&) = delete;
    ~TcAttachment();

    /**
     * attach() - attach @prog_fd as a direct-action filter on @ifindex's @point.
     * @ifindex: the device.
     * @point: BPF_TC_INGRESS or BPF_TC_EGRESS.
     * @prog_fd: the SCHED_CLS program.
     * @prog_name: its name, to recognise a stale copy at our slot.
     */
    static Result<TcAttachment> attach(int ifindex, bpf_tc_attach_point point, int prog_fd,
                                       const std::string& prog_name);

    /** detach() - remove our filter (and the qdisc if we created it). */
    Result<void> detach();

    bool attached() const { return ifindex_ != 0; }

private:
    int ifindex_ = 0;
    bpf_tc_attach_point point_ = BPF_TC_INGRESS;
    bool created_qdisc_ = false;
};

/**
 * remove_stale_tc() - delete the filter at our slot if it runs @prog_name.
 * @ifindex: the device.
 * @point: the hook.
 * @prog_name: the name of our program.
 */
Result<void> remove_stale_tc(int ifindex, bpf_tc_attach_point point, const std::string& prog_name);

} // namespace xo::bpf
