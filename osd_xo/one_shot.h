// Theory of operation: the meeting point between librados' callback threads
// and the responder's single io_context thread. A OneShot<T> is a value that
// arrives exactly once, from any thread (a librados completion, a deadline
// timer, a test), and is awaited once by a coroutine, which always resumes on
// its own executor. The first complete() wins and later ones are ignored, so
// a deadline and the operation it guards can race without coordination: the
// loser's value is dropped. Only a mutex-protected slot is shared; the
// waiting coroutine's handler is posted, never run on the completing thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace xo::rsp {

template <typename T>
class OneShot : public std::enable_shared_from_this<OneShot<T>> {
public:
    /** create() - an empty slot whose waiter resumes on @executor. */
    static std::shared_ptr<OneShot> create(boost::asio::any_io_executor executor)
    {
        return std::shared_ptr<OneShot>(new OneShot(std::move(executor)));
    }

    /**
     * complete() - deliver @value from any thread.
     *
     * Return: true if this was the first completion (the value is kept), false
     * if the slot was already filled (@value is dropped).
     */
    bool complete(T value)
    {
        std::function<void()> wake;
        {
            std::lock_guard lock(mutex_);
            if (value_)
                return false;
            value_.emplace(std::move(value));
            wake = std::move(wake_);
        }
        if (wake)
            wake();
        return true;
    }

    /** done() - whether a value has arrived (for tests and diagnostics). */
    bool done() const
    {
        std::lock_guard lock(mutex_);
        return value_.has_value();
    }

    /** take() - wait for the value and move it out; call at most once. */
    boost::asio::awaitable<T> take()
    {
        // A named initiation: GCC 12 destroys some temporaries of a co_await
        // expression twice, and this one owns a reference count.
        auto initiation = [self = this->shared_from_this()](auto handler) { self->park(std::move(handler)); };
        co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(initiation,
                                                                                            boost::asio::use_awaitable);
        std::lock_guard lock(mutex_);
        co_return std::move(*value_);
    }

private:
    explicit OneShot(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

    /** park() - resume @handler once a value is there (at once if it already is). */
    template <typename Handler>
    void park(Handler handler)
    {
        // std::function needs a copyable target; the coroutine's handler is move-only.
        auto shared = std::make_shared<Handler>(std::move(handler));
        auto wake = [shared, executor = executor_] {
            boost::asio::post(executor, [shared] { (*shared)(); });
        };
        {
            std::lock_guard lock(mutex_);
            if (!value_) {
                wake_ = std::move(wake);
                return;
            }
        }
        wake();
    }

    boost::asio::any_io_executor executor_;
    mutable std::mutex mutex_;
    std::optional<T> value_;
    std::function<void()> wake_;
};

/**
 * complete_after() - fill @slot with @fallback unless it is filled within @timeout.
 * @timer: armed here; cancel or destroy it once the value arrived.
 *
 * The timer's handler holds the slot, not the caller, so it is safe whenever it runs.
 */
template <typename T>
void complete_after(boost::asio::steady_timer& timer, std::chrono::steady_clock::duration timeout,
                    std::shared_ptr<OneShot<T>> slot, T fallback)
{
    timer.expires_after(timeout);
    timer.async_wait([slot = std::move(slot), fallback = std::move(fallback)](boost::system::error_code ec) mutable {
        if (!ec)
            slot->complete(std::move(fallback));
    });
}

} // namespace xo::rsp
