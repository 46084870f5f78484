#include "servable.h"

#include <algorithm>

#include "head_read.h"
#include "stream.h"
#include "vet.h"

namespace xo::rsp {

namespace {

using handoff::RefuseReason;

/**
 * head_bytes() - the part of @snap's data (read at RADOS offset plan.first of
 * the head) that is the object's bytes from plan.first, or a reason to refuse.
 */
Result<Bytes> head_bytes(const ServePlan& plan, const std::vector<rgw::Extent>& extents, const HeadSnapshot& snap,
                         std::uint64_t read_length)
{
    const bool has_head = !extents.empty() && extents.front().oid == plan.oid && extents.front().rados_offset == 0;
    const std::uint64_t head_end = has_head ? extents.front().length : 0;
    if (snap.size < head_end)
        return Error{"head object holds " + std::to_string(snap.size) + " bytes, its manifest says " +
                         std::to_string(head_end),
                     EIO};
    if (plan.first >= head_end)
        return Bytes{};
    std::uint64_t want = std::min(read_length, head_end - plan.first);
    if (snap.data.size() < want)
        return Error{"head read gave " + std::to_string(snap.data.size()) + " of " + std::to_string(want) + " bytes",
                     EIO};
    return Bytes(snap.data.begin(), snap.data.begin() + static_cast<std::ptrdiff_t>(want));
}

} // namespace

boost::asio::awaitable<Prepared> prepare_object(boost::asio::any_io_executor executor, librados::Rados& rados,
                                                ServePlan plan, ReadSettings settings)
{
    auto object = std::make_shared<ServableObject>();
    // A pool lookup is local while the pool exists; only an unknown pool
    // costs a monitor round trip here.
    if (int r = rados.ioctx_create(plan.pool.c_str(), object->io); r < 0) {
        auto why = Error::from_errno("opening pool " + plan.pool, -r).message;
        co_return Refusal{r == -ENOENT ? RefuseReason::unsupported : RefuseReason::unspecified, why};
    }
    const std::uint64_t read_length = std::min(plan.length, settings.read_bytes);
    // Coroutine calls with arguments are made apart from their co_await:
    // GCC 12 destroys some temporaries of a co_await expression twice.
    auto reading = read_head(executor, object->io, head_of(plan), plan.first, read_length, settings.head_timeout);
    Result<HeadSnapshot> snap = co_await std::move(reading);
    if (!snap && snap.error().code == ENOENT)
        co_return Refusal{RefuseReason::unsupported, "head object gone: " + plan.oid};
    if (!snap)
        co_return Refusal{RefuseReason::unspecified, snap.error().message};
    auto extents = vet_head(snap->xattrs, plan);
    if (!extents)
        co_return Refusal{RefuseReason::unsupported, extents.error().message};
    auto head = head_bytes(plan, *extents, *snap, read_length);
    if (!head)
        co_return Refusal{RefuseReason::unsupported, head.error().message};
    object->plan = std::move(plan);
    object->extents = std::move(*extents);
    object->head = std::move(*head);
    co_return object;
}

boost::asio::awaitable<Result<void>> stream_object(boost::asio::any_io_executor executor,
                                                   std::shared_ptr<ServableObject> object, ByteSink& sink,
                                                   ReadSettings settings)
{
    const ServePlan& plan = object->plan;
    const std::uint64_t after_head = plan.first + object->head.size();
    auto slicer = RangeSlicer::create(object->extents, after_head, plan.length - object->head.size(),
                                      settings.read_bytes);
    if (!slicer)
        co_return slicer.error();
    RadosChunkReader reader(executor, object->io);
    auto streaming = stream_range(reader, std::move(*slicer), std::move(object->head), sink, settings.pipeline_depth);
    Result<void> done = co_await std::move(streaming);
    co_return done;
}

} // namespace xo::rsp
