// Theory of operation: the admission reads the head object at RADOS offset
// plan.first in the same operation as its xattrs, before it knows the
// manifest. Only afterwards can it tell which of those bytes are the
// object's bytes from plan.first: those of the head's own extent (a plain
// upload's first stripe). A multipart head holds none, a range starting past
// the head extent gets none, and bytes past the extent (a head object larger
// than its manifest says) are cut off. A head holding fewer bytes than its
// extent is a reason to refuse: radosgw would fail the read too.
#pragma once

#include <cstdint>
#include <optional>

#include "osd_xo/head_read.h"
#include "common/handoff/serve_plan.h"

namespace xo::rsp {

/**
 * head_prefix() - the object's bytes from plan.first among what the head read gave.
 * @first:       the object's first extent (vet_head()), none for an empty object.
 * @snap:        the head read, made at RADOS offset @plan.first for @read_length bytes.
 *
 * Return: 0..@read_length bytes (empty when the head extent does not hold
 * plan.first), or an Error when the head holds fewer bytes than its extent.
 */
Result<Bytes> head_prefix(const handoff::ServePlan& plan, const std::optional<rgw::Extent>& first, const HeadSnapshot& snap,
                          std::uint64_t read_length);

} // namespace xo::rsp
