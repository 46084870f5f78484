// Theory of operation: radosgw stores an S3 object's head (its first stripe,
// xattrs and manifest) as one RADOS object in the bucket's data pool. Its name
// is a pure function of the bucket marker, the key and the version instance
// (Ceph's rgw_obj_key::get_oid() and rgw_obj::get_loc(), Pacific):
//
//   key "photo.jpg"                 oid "<marker>_photo.jpg"         no locator
//   key "_x" (leading underscore)   oid "<marker>___x"               locator "<marker>__x"
//   key "k", version "v1"           oid "<marker>__:v1_k"            no locator
//   key "_x", version "v1"          oid "<marker>__:v1__x"           locator "<marker>__x"
//   version "null" (unversioned or suspended bucket) is not encoded.
//
// RADOS places an object by its locator when it has one, else by its oid, so
// placement_name() is the string to hash. The leading-underscore escape keeps
// user keys from colliding with radosgw's own "_<ns>_" names (shadow,
// multipart); the locator keeps such a key in the PG its unescaped name
// chose in old releases. Nothing here talks to the cluster. The rules
// themselves live once, in rados_name() (common/rgw/rgw_manifest.h), which also
// names the tail objects a manifest describes; this is the locator's view.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/rgw/rgw_manifest.h"

namespace xo::rgw {

/** An S3 object version as the gateway names it. */
struct ObjectName {
    std::string bucket;
    std::string key;
    std::string version_id; ///< empty for the current version of an unversioned object
};

/** The RADOS identity of an S3 object's head object (no namespace: RGW's data
 * objects live in the pool's default namespace). */
struct HeadName {
    std::string oid;     ///< the RADOS object name
    std::string locator; ///< the RADOS locator key, empty when the object has none

    /** placement_name() - the name RADOS hashes to choose the PG. */
    const std::string& placement_name() const { return locator.empty() ? oid : locator; }
};

/**
 * head_object() - the head RADOS object of an S3 object.
 * @marker: the bucket marker (equal to the bucket id for a bucket made by this release)
 * @key: the S3 key, any bytes, non-empty
 * @version_id: the S3 version id; empty or "null" for the unversioned instance
 *
 * Return: the oid and locator, or an Error for an empty marker or key.
 */
Result<HeadName> head_object(std::string_view marker, std::string_view key, std::string_view version_id);

} // namespace xo::rgw
