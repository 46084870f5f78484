// Theory of operation: every connection a daemon holds is a file descriptor
// (two on the gateway: the client's and its radosgw connection), and the soft
// RLIMIT_NOFILE a daemon inherits is often 1024 whatever the hard limit the
// administrator allows. Both daemons raise the soft limit to the hard one at
// start-up and log the result, so the configured connection limits, not an
// accidental inheritance, decide how many connections they take. What is left
// when descriptors still run out is each accept loop's backoff
// (accept_backoff.h).
#pragma once

#include <cstdint>

namespace xo {

/**
 * raise_open_files_limit() - raise the soft RLIMIT_NOFILE to the hard limit
 * (to fs.nr_open when the hard limit is unlimited); a refusal is logged as a
 * warning and the limit stays as it was.
 *
 * Return: the soft limit in force afterwards.
 */
std::uint64_t raise_open_files_limit();

} // namespace xo
