// Theory of operation: xo-gateway's handle on its data plane. open() loads
// gateway_ingress.bpf.c with its flow table pinned per instance (reusing the
// pinned table a previous run left, so offloaded flows survive a restart;
// the caller sweeps what that run left, FlowTable::sweep()), and the table
// writes entries in this process's name (entry_owner.h);
// attach() puts the program on the public NIC — native XDP where the driver
// has it, else TC clsact ingress — replacing a stale copy of our own program
// in place, and reports which mode it used. The object detaches on
// destruction; pins stay until remove().
#pragma once

#include <memory>
#include <string>

#include "bpf/data_plane_options.h"
#include "bpf/flow_table.h"
#include "common/result.h"
#include "bpf/tc_attach.h"
#include "bpf/xdp_attach.h"

struct gateway_ingress_bpf;

namespace xo::bpf {

enum class AttachMode { xdp_native, tc };
enum class AttachPreference { automatic, xdp_native, tc };

/** to_string() - "xdp-native" or "tc". */
const char* to_string(AttachMode mode);

class GatewayDataPlane {
public:
    /** open() - load the programs; create or reuse the pinned flow table. */
    static Result<std::unique_ptr<GatewayDataPlane>> open(const DataPlaneOptions& options);

    /** remove() - delete @instance's pins (loaded maps live on while referenced). */
    static Result<void> remove(const std::string& instance);

    GatewayDataPlane(const GatewayDataPlane&) = delete;
    GatewayDataPlane& operator=(const GatewayDataPlane&) = delete;
    ~GatewayDataPlane();

    /**
     * attach() - attach to @ifname and start acting on flow entries.
     * @ifname: the public NIC.
     * @preference: automatic tries native XDP, then TC ingress.
     *
     * Return: the mode now in use.
     */
    Result<AttachMode> attach(const std::string& ifname,
                              AttachPreference preference = AttachPreference::automatic);

    /** detach() - remove our program from the NIC (flow entries stay). */
    Result<void> detach();

    FlowTable& flows() { return flows_; }

    /** nic_mac() - MAC of the attached NIC (source MAC of redirected frames). */
    const Mac& nic_mac() const { return nic_mac_; }

    int xdp_program_fd() const;
    int tc_program_fd() const;

private:
    GatewayDataPlane(gateway_ingress_bpf* skel, EntryOwner owner);

    gateway_ingress_bpf* skel_;
    FlowTable flows_;
    Mac nic_mac_{};
    XdpAttachment xdp_;
    TcAttachment tc_;
};

} // namespace xo::bpf
