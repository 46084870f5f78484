// Theory of operation: the memory of both XO daemons holds secrets — the
// handoff keys (control channel keys, the ticket key), the TLS 1.3 session
// keys of every control channel and the cephx session keys librados
// negotiated. A core dump would write them to a file whoever reads core files
// can read, and ptrace (or /proc/<pid>/mem) by a process of the same user
// would read them live. So each daemon, first thing in main(), forbids both:
// RLIMIT_CORE 0 (no core file; the hard limit too, which a process without
// CAP_SYS_RESOURCE cannot raise again) and PR_SET_DUMPABLE 0 (no core either,
// no ptrace attach, and /proc/<pid>/* owned by root for anyone without
// CAP_SYS_PTRACE, even its own user). Root keeps its view of
// /proc/<pid>/fdinfo, which tests and bpftool use.
#pragma once

#include "common/result.h"

namespace xo {

/**
 * forbid_core_dumps() - set RLIMIT_CORE to 0 (soft and hard) and make this
 * process non-dumpable.
 *
 * Return: an Error naming the call that failed; the daemons refuse to start on it.
 */
Result<void> forbid_core_dumps();

} // namespace xo
