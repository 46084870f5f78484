// Decoder for the prefix of RGWBucketEntryPoint described in bucket_entrypoint.h.
#include "rgw_xo/bucket_entrypoint.h"

#include <cstdint>

namespace xo::rgw {

namespace {

// Newest compat versions whose prefix layout we know, and the oldest struct
// versions that have it.
constexpr uint8_t entrypoint_min_v = 8, entrypoint_max_compat = 8;
constexpr uint8_t bucket_min_v = 10, bucket_max_compat = 10;

/** A bounds-checked little-endian reader over one encoded structure. */
class Reader {
public:
    explicit Reader(std::string_view data) : data_(data) {}

    bool u8(uint8_t& out)
    {
        if (data_.size() < 1)
            return false;
        out = static_cast<uint8_t>(data_[0]);
        data_.remove_prefix(1);
        return true;
    }

    bool u32(uint32_t& out)
    {
        if (data_.size() < 4)
            return false;
        out = 0;
        for (int i = 3; i >= 0; --i)
            out = (out << 8) | static_cast<uint8_t>(data_[i]);
        data_.remove_prefix(4);
        return true;
    }

    bool string(std::string& out)
    {
        uint32_t len = 0;
        if (!u32(len) || data_.size() < len)
            return false;
        out.assign(data_.substr(0, len));
        data_.remove_prefix(len);
        return true;
    }

    /** enter() - read an ENCODE_START header and narrow to its payload. */
    Result<Reader> enter(const char* what, uint8_t min_v, uint8_t max_compat)
    {
        uint8_t v = 0, compat = 0;
        uint32_t len = 0;
        if (!u8(v) || !u8(compat) || !u32(len))
            return Error{std::string(what) + ": truncated header", 0};
        if (v < min_v || compat > max_compat)
            return Error{std::string(what) + ": unsupported encoding v" + std::to_string(v) + " compat " +
                             std::to_string(compat),
                         0};
        if (data_.size() < len)
            return Error{std::string(what) + ": length " + std::to_string(len) + " exceeds the data", 0};
        Reader inner(data_.substr(0, len));
        data_.remove_prefix(len);
        return inner;
    }

private:
    std::string_view data_;
};

} // namespace

Result<BucketIdentity> decode_bucket_entrypoint(std::string_view data)
{
    Reader top(data);
    auto entrypoint = top.enter("bucket entrypoint", entrypoint_min_v, entrypoint_max_compat);
    if (!entrypoint)
        return entrypoint.error();
    auto bucket = entrypoint->enter("bucket entrypoint: rgw_bucket", bucket_min_v, bucket_max_compat);
    if (!bucket)
        return bucket.error();

    BucketIdentity id;
    if (!bucket->string(id.name) || !bucket->string(id.marker) || !bucket->string(id.bucket_id) ||
        !bucket->string(id.tenant))
        return Error{"bucket entrypoint: rgw_bucket truncated", 0};
    if (id.marker.empty())
        return Error{"bucket entrypoint: bucket " + id.name + " has an empty marker", 0};
    return id;
}

} // namespace xo::rgw
