// Theory of operation: one rtnetlink socket (libnl-3) that says why the
// kernel refused a request. Extended acks are switched on, so an error
// carries the kernel's own sentence ("TC classifier not found") beside its
// errno; transact() sends a message and waits for its ack, returning both as
// an Error (code = errno). Not thread-safe: one owner thread at a time.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

struct nl_msg;
struct nl_sock;

namespace xo::flower {

/** NlMsg - an owned libnl message. */
struct NlMsgFree {
    void operator()(nl_msg* msg) const;
};
using NlMsg = std::unique_ptr<nl_msg, NlMsgFree>;

class NetlinkSocket {
public:
    /** open() - a connected NETLINK_ROUTE socket in the caller's network namespace. */
    static Result<NetlinkSocket> open();

    NetlinkSocket(NetlinkSocket&&) noexcept;
    NetlinkSocket& operator=(NetlinkSocket&&) noexcept;
    ~NetlinkSocket();

    nl_sock* get() const;

    /** transact() - send @msg, wait for its ack; the error names @what, the kernel's reason and errno. */
    Result<void> transact(nl_msg* msg, const std::string& what);

    /** check() - turn a libnl return code @rc of a call that waited for an ack into a Result. */
    Result<void> check(int rc, const std::string& what);

private:
    struct State;
    explicit NetlinkSocket(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

} // namespace xo::flower
