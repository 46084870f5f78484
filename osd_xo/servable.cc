#include "osd_xo/servable.h"

#include <algorithm>

#include "osd_xo/head_prefix.h"
#include "osd_xo/head_read.h"
#include "osd_xo/stream.h"
#include "osd_xo/vet.h"

namespace xo::rsp {

using handoff::RefuseReason;

boost::asio::awaitable<Prepared> prepare_object(boost::asio::any_io_executor executor, librados::Rados& rados,
                                                handoff::ServePlan plan, ReadSettings settings)
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
    // The cursor stands before the first extent: the head's, if it has one.
    auto head = head_prefix(plan, extents->next(), *snap, read_length);
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
    const handoff::ServePlan& plan = object->plan;
    const std::uint64_t after_head = plan.first + object->head.size();
    auto slicer = RangeSlicer::create(std::move(object->extents), after_head, plan.length - object->head.size(),
                                      settings.read_bytes);
    if (!slicer)
        co_return slicer.error();
    RadosChunkReader reader(executor, object->io);
    auto streaming = stream_range(reader, std::move(*slicer), std::move(object->head), sink, settings.pipeline_depth);
    Result<void> done = co_await std::move(streaming);
    co_return done;
}

} // namespace xo::rsp
