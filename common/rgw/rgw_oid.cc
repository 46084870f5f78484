// The name mapping of rgw_oid.h; see there for the rules and their origin.
#include "common/rgw/rgw_oid.h"

namespace xo::rgw {

Result<HeadName> head_object(std::string_view marker, std::string_view key, std::string_view version_id)
{
    if (marker.empty())
        return Error{"head object name: empty bucket marker", 0};
    if (key.empty())
        return Error{"head object name: empty key", 0};

    Obj obj;
    obj.bucket.marker = marker;
    obj.key.name = key;
    obj.key.instance = version_id;
    RadosName name = rados_name(obj);
    return HeadName{std::move(name.oid), std::move(name.locator)};
}

} // namespace xo::rgw
