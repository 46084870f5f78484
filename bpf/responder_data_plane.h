// Theory of operation: xo-responder's handle on its data plane. open() loads
// responder_egress.bpf.c with its rewrite table pinned per instance (reused
// after a restart; the caller sweeps a killed predecessor's entries, whose
// sockets died with it, RewriteTable::sweep()); attach()
// puts the program on TC clsact egress of the NIC the restored connections
// leave through, replacing a stale copy of our own. The object detaches on
// destruction; pins stay until remove().
#pragma once

#include <memory>
#include <string>

#include "bpf/data_plane_options.h"
#include "common/result.h"
#include "bpf/rewrite_table.h"
#include "bpf/tc_attach.h"

struct responder_egress_bpf;

namespace xo::bpf {

class ResponderDataPlane {
public:
    /** open() - load the program; create or reuse the pinned rewrite table. */
    static Result<std::unique_ptr<ResponderDataPlane>> open(const DataPlaneOptions& options);

    /** remove() - delete @instance's pins. */
    static Result<void> remove(const std::string& instance);

    ResponderDataPlane(const ResponderDataPlane&) = delete;
    ResponderDataPlane& operator=(const ResponderDataPlane&) = delete;
    ~ResponderDataPlane();

    /** attach() - rewrite restored connections' packets leaving @ifname. */
    Result<void> attach(const std::string& ifname);

    /** detach() - remove our filter (entries stay). */
    Result<void> detach();

    RewriteTable& rewrites() { return rewrites_; }

    int program_fd() const;

private:
    ResponderDataPlane(responder_egress_bpf* skel, EntryOwner owner);

    responder_egress_bpf* skel_;
    RewriteTable rewrites_;
    TcAttachment tc_;
};

} // namespace xo::bpf
