// Theory of operation: a file descriptor that closes itself. Error paths in
// socket code are many and early returns are the norm (every call returns a
// Result), so ownership must follow the value, not the control flow: whoever
// holds the UniqueFd closes it, exactly once. Move-only; release() hands the
// descriptor to code that manages it otherwise (e.g. an asio socket).
#pragma once

#include <unistd.h>

#include <utility>

namespace xo {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept
    {
        reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    /** get() - the descriptor, still owned; -1 if empty. */
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }

    /** release() - give up ownership without closing; returns the descriptor. */
    int release() { return std::exchange(fd_, -1); }

    /** reset() - close the current descriptor (if any) and own @fd instead. */
    void reset(int fd = -1)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

} // namespace xo
