// Errors as values. Kernel and network calls fail routinely (a peer vanished,
// a port is taken, the kernel lacks a feature); daemons must report such
// failures with context and carry on, so functions that can fail return a
// Result<T>: either a T or an Error saying what was attempted and why it failed.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace xo {

struct Error {
    std::string message; ///< what was attempted and what went wrong
    int code = 0;        ///< errno where one applies, else 0

    /** from_errno() - "<what>: <strerror(errno)>", keeping errno as the code. */
    static Error from_errno(std::string what, int err = errno)
    {
        return Error{std::move(what) + ": " + std::strerror(err), err};
    }
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_;
    bool ok_ = true;
};

/** with_context() - @e with "@what: " prepended, for errors passed up a layer. */
inline Error with_context(const std::string& what, Error e)
{
    e.message = what + ": " + e.message;
    return e;
}

} // namespace xo
