// Theory of operation: the responder may only send bytes radosgw would have
// sent for the same GET. radosgw authorized the request and reported an
// ETag; the head object's xattrs say whether the stored bytes are the bytes
// the client gets. vet_head() refuses, with a reason an operator can act
// on, everything where they are not or where we cannot tell:
//   - another object than radosgw described (ETag differs: overwritten since);
//   - compressed (user.rgw.compression) or encrypted (user.rgw.crypt.*)
//     objects, whose RADOS bytes radosgw transforms on the way out;
//   - storage classes other than STANDARD (tiers we do not read);
//   - manifests we do not understand, or of another size than the plan.
// It is a pure function of the xattrs and the plan, so the rules are tested
// without a cluster. A cursor over the manifest's extents is the result: the
// responder reads exactly those.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/rgw/rgw_manifest.h"
#include "common/handoff/serve_plan.h"

namespace xo::rsp {

/** A head object's xattrs: name -> raw value bytes. */
using XattrMap = std::map<std::string, std::string>;

inline constexpr const char* kEtagXattr = "user.rgw.etag";
inline constexpr const char* kCompressionXattr = "user.rgw.compression";
inline constexpr const char* kCryptXattrPrefix = "user.rgw.crypt.";
inline constexpr const char* kStorageClassXattr = "user.rgw.storage_class";

/** head_of() - the head object a plan names, as the manifest decoder wants it. */
rgw::HeadObject head_of(const handoff::ServePlan& plan);

/**
 * vet_head() - whether the object behind @xattrs is served as radosgw would serve @plan.
 *
 * Return: the object's RADOS extents (contiguous, logical offset 0 to the
 * object size, made on demand), or an Error whose message says what radosgw
 * would do differently (the REFUSE text).
 */
Result<rgw::ExtentCursor> vet_head(const XattrMap& xattrs, const handoff::ServePlan& plan);

/** xattr_text() - an xattr value as text: radosgw NUL-terminates some, not others. */
std::string xattr_text(const std::string& raw);

} // namespace xo::rsp
