#include "osd_xo/head_read.h"

#include "osd_xo/rados_aio.h"

namespace xo::rsp {

namespace {

/** The operation and the buffers librados fills; owned by the completion. */
struct HeadOp {
    librados::ObjectReadOperation op;
    std::map<std::string, librados::bufferlist> xattrs;
    int xattrs_rval = 0;
    std::uint64_t size = 0;
    time_t mtime = 0;
    int stat_rval = 0;
    librados::bufferlist data;
    int read_rval = 0;
};

/** finish() - the snapshot from a completed @op (librados gave @r), on librados' thread. */
Result<HeadSnapshot> finish(const HeadOp& op, const std::string& oid, int r)
{
    for (int rval : {r, op.xattrs_rval, op.stat_rval, op.read_rval})
        if (rval < 0)
            return Error::from_errno("reading head object " + oid, -rval);
    HeadSnapshot snap;
    for (const auto& [name, value] : op.xattrs)
        snap.xattrs.emplace(name, value.to_str());
    snap.size = op.size;
    snap.data.resize(op.data.length());
    op.data.begin().copy(op.data.length(), reinterpret_cast<char*>(snap.data.data()));
    return snap;
}

} // namespace

boost::asio::awaitable<Result<HeadSnapshot>> read_head(boost::asio::any_io_executor executor, librados::IoCtx io,
                                                       rgw::HeadObject head, std::uint64_t offset,
                                                       std::uint64_t length,
                                                       std::chrono::steady_clock::duration timeout)
{
    auto op = std::make_shared<HeadOp>();
    op->op.getxattrs(&op->xattrs, &op->xattrs_rval);
    op->op.stat(&op->size, &op->mtime, &op->stat_rval);
    op->op.read(offset, length, &op->data, &op->read_rval);
    io.set_namespace(head.nspace);
    io.locator_set_key(head.locator);
    std::string oid = head.oid;
    auto slot = start_aio<Result<HeadSnapshot>>(
        executor, io, [op, oid](int r) { return finish(*op, oid, r); },
        [&](librados::AioCompletion* c) { return io.aio_operate(oid, c, &op->op, nullptr); });
    boost::asio::steady_timer deadline(executor);
    complete_after(deadline, timeout, slot,
                   Result<HeadSnapshot>(Error{"reading head object " + oid + ": no answer in time", ETIMEDOUT}));
    Result<HeadSnapshot> snap = co_await slot->take();
    co_return snap;
}

} // namespace xo::rsp
