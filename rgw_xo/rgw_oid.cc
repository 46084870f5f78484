// The name mapping of rgw_oid.h; see there for the rules and their origin.
#include "rgw_oid.h"

namespace xo::rgw {

namespace {

/** key_oid() - the key part of the oid, as rgw_obj_key::get_oid() builds it
 * for an object outside any radosgw namespace. */
std::string key_oid(std::string_view key, std::string_view version_id)
{
    std::string out;
    const bool encode_instance = !version_id.empty() && version_id != "null";
    if (encode_instance) {
        out.append("_:").append(version_id).append("_");
    } else if (key.front() == '_') {
        out.append("_");
    }
    out.append(key);
    return out;
}

} // namespace

Result<HeadObject> head_object(std::string_view marker, std::string_view key, std::string_view version_id)
{
    if (marker.empty())
        return Error{"head object name: empty bucket marker", 0};
    if (key.empty())
        return Error{"head object name: empty key", 0};

    const std::string prefix = std::string(marker) + "_";
    HeadObject head;
    head.oid = prefix + key_oid(key, version_id);
    if (key.front() == '_')
        head.locator = prefix + std::string(key);
    return head;
}

} // namespace xo::rgw
