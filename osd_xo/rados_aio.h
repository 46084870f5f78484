// Theory of operation: librados' asynchronous calls as OneShot values
// (one_shot.h), so a coroutine on the io_context can start RADOS operations
// and await them without blocking its thread.
//
// start_aio() creates an AioCompletion whose callback runs on a librados
// finisher thread: it turns the operation's return value (and whatever
// buffers the operation filled) into a T with the caller's finish function,
// delivers it to the OneShot and releases the completion. The finish function
// owns the operation's buffers (by capturing them), so they live exactly as
// long as librados may write into them — also when the waiter gave up on a
// deadline and is long gone. The call also holds a reference to the IoCtx
// the operation was issued on: librados' completion path dereferences it
// (IoCtxImpl) on a messenger thread and takes no reference of its own, so a
// connection that ends with reads in flight must not be the IoCtx's last
// owner. Work done in finish (e.g. copying a bufferlist out) runs on
// librados' thread, off the io_context.
#pragma once

#include <rados/librados.hpp>

#include <functional>
#include <memory>

#include "osd_xo/one_shot.h"

namespace xo::rsp {

namespace detail {

template <typename T>
struct AioCall {
    std::shared_ptr<OneShot<T>> slot;
    std::function<T(int)> finish;
    librados::IoCtx io; ///< keeps the IoCtxImpl alive until the callback ran
    librados::AioCompletion* completion = nullptr;

    static void on_complete(librados::completion_t, void* arg)
    {
        std::unique_ptr<AioCall> call(static_cast<AioCall*>(arg));
        int r = call->completion->get_return_value();
        call->slot->complete(call->finish(r));
        // librados holds its own reference while the callback runs, so
        // releasing ours here is safe.
        call->completion->release();
    }
};

} // namespace detail

/**
 * start_aio() - start one librados aio operation; its outcome arrives in the returned slot.
 * @executor: where the awaiting coroutine runs.
 * @io:       the IoCtx @submit issues the operation on; held until it completes.
 * @finish:   called once with the operation's return value (< 0: -errno) on a
 *            librados thread, or on this thread if @submit fails; must own the
 *            operation's buffers and must not block.
 * @submit:   issues the operation with the given completion; returns what the
 *            librados call returned.
 */
template <typename T>
std::shared_ptr<OneShot<T>> start_aio(boost::asio::any_io_executor executor, librados::IoCtx& io,
                                      std::function<T(int)> finish,
                                      const std::function<int(librados::AioCompletion*)>& submit)
{
    auto slot = OneShot<T>::create(std::move(executor));
    auto* call = new detail::AioCall<T>{slot, std::move(finish), io};
    call->completion = librados::Rados::aio_create_completion(call, &detail::AioCall<T>::on_complete);
    if (int r = submit(call->completion); r < 0) {
        // Never queued: the callback will not run, so clean up here.
        std::unique_ptr<detail::AioCall<T>> owned(call);
        owned->completion->release();
        slot->complete(owned->finish(r));
    }
    return slot;
}

} // namespace xo::rsp
