#include "bpf/flower/netlink_socket.h"

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>

namespace xo::flower {

void NlMsgFree::operator()(nl_msg* msg) const
{
    nlmsg_free(msg);
}

namespace {

/** struct RefusedAck - what the kernel said when it last refused a request. */
struct RefusedAck {
    int error = 0;      ///< its errno
    std::string reason; ///< its extended ack message, if any
};

} // namespace

struct NetlinkSocket::State {
    nl_sock* sock = nullptr;
    RefusedAck ack; ///< filled by on_error(), read and cleared by check()
    ~State()
    {
        if (sock)
            nl_socket_free(sock);
    }
};

namespace {

/** on_error() - keep the errno and the extended ack message of a refused request. */
int on_error(sockaddr_nl*, nlmsgerr* err, void* arg)
{
    auto* ack = static_cast<RefusedAck*>(arg);
    ack->error = -err->error;
    ack->reason.clear();
    // With NETLINK_CAP_ACK the original request is not echoed: the TLVs follow nlmsgerr.
    auto* hdr = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(err) - NLMSG_HDRLEN);
    if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS) || !(hdr->nlmsg_flags & NLM_F_CAPPED))
        return NL_STOP;
    std::size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nlmsgerr));
    while (offset + sizeof(nlattr) <= hdr->nlmsg_len) {
        auto* attr = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(hdr) + offset);
        if (attr->nla_len < sizeof(nlattr) || offset + attr->nla_len > hdr->nlmsg_len)
            break;
        if ((attr->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            const char* text = reinterpret_cast<const char*>(attr) + NLA_HDRLEN;
            ack->reason = std::string(text, strnlen(text, attr->nla_len - NLA_HDRLEN));
            break;
        }
        offset += NLA_ALIGN(attr->nla_len);
    }
    return NL_STOP;
}

} // namespace

NetlinkSocket::NetlinkSocket(std::unique_ptr<State> state) : state_(std::move(state)) {}
NetlinkSocket::NetlinkSocket(NetlinkSocket&&) noexcept = default;
NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&&) noexcept = default;
NetlinkSocket::~NetlinkSocket() = default;

nl_sock* NetlinkSocket::get() const
{
    return state_->sock;
}

Result<NetlinkSocket> NetlinkSocket::open()
{
    auto state = std::make_unique<State>();
    state->sock = nl_socket_alloc();
    if (!state->sock)
        return Error{"netlink: cannot allocate a socket", ENOMEM};
    if (int r = nl_connect(state->sock, NETLINK_ROUTE); r < 0)
        return Error{std::string("netlink: connect: ") + nl_geterror(r)};
    int on = 1;
    int fd = nl_socket_get_fd(state->sock);
    // Best effort: without them errors carry only their errno.
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    // The state is on the heap and never moves: the callback may point into it.
    nl_socket_modify_err_cb(state->sock, NL_CB_CUSTOM, on_error, &state->ack);
    return NetlinkSocket(std::move(state));
}

Result<void> NetlinkSocket::check(int rc, const std::string& what)
{
    if (rc >= 0)
        return {};
    int err = state_->ack.error ? state_->ack.error : EIO;
    std::string why = state_->ack.reason.empty() ? std::string(nl_geterror(rc)) : state_->ack.reason;
    state_->ack = {};
    return Error{what + ": " + why + " (" + std::strerror(err) + ")", err};
}

Result<void> NetlinkSocket::transact(nl_msg* msg, const std::string& what)
{
    state_->ack = {};
    int rc = nl_send_auto(state_->sock, msg);
    if (rc >= 0)
        rc = nl_wait_for_ack(state_->sock);
    return check(rc, what);
}

} // namespace xo::flower
