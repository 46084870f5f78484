#include "osd_xo/chunk_reader.h"

#include "osd_xo/rados_aio.h"

namespace xo::rsp {

ChunkSlot RadosChunkReader::start(const rgw::Extent& piece)
{
    auto data = std::make_shared<librados::bufferlist>();
    std::string oid = piece.oid;
    // The copy out of librados' buffers happens here, on its finisher thread,
    // not on the io_context that writes to the sockets.
    auto finish = [data, oid](int r) -> Result<Bytes> {
        if (r < 0)
            return Error::from_errno("reading " + oid, -r);
        Bytes out(data->length());
        data->begin().copy(data->length(), reinterpret_cast<char*>(out.data()));
        return out;
    };
    // The locator and namespace are captured by librados when the read is
    // issued, so setting them just before is enough.
    io_.set_namespace(piece.nspace);
    io_.locator_set_key(piece.locator);
    return start_aio<Result<Bytes>>(executor_, io_, finish, [&](librados::AioCompletion* c) {
        return io_.aio_read(piece.oid, c, data.get(), piece.length, piece.rados_offset);
    });
}

} // namespace xo::rsp
