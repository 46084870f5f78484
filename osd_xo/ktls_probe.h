// Theory of operation: kernel TLS would let the kernel seal a responder's
// records (TCP_ULP "tls" + TLS_TX with the migrated key and sequence), but
// XO-Ceph never assumes it: the kernel may lack CONFIG_TLS (this project's
// development kernel does), and a socket cannot leave kTLS again, which a
// connection going back to the gateway needs. The responder therefore seals
// in user space (tls_sink.h) and only probes, at start, whether the kernel
// offers the "tls" upper-layer protocol, to say so in its log and metrics.
#pragma once

#include "common/result.h"

namespace xo::rsp {

/** kernel_tls_available() - whether the kernel offers TCP_ULP "tls"; the error says why not. */
Result<void> kernel_tls_available();

} // namespace xo::rsp
