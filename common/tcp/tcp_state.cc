// Theory of operation: see tcp_state.h. This file holds the kernel side, the
// save and restore sequences. Every step is a named syscall wrapper whose
// error says which step failed and with which values, because TCP_REPAIR
// failures are otherwise an opaque EPERM or EINVAL.
//
// Save reads the queues with MSG_PEEK under TCP_REPAIR_QUEUE. The receive
// queue is read between two reads of rcv_nxt and retried if data arrived in
// between. The send queue goes last: repair mode alone does not stop
// transmission — a deferred send (TCP small queues, a release callback) still
// puts segments on the wire unless the repair queue is the send queue, in
// which case the kernel marks them sent without sending them. So the send
// queue is selected before its never-sent length is read and stays selected
// until the socket is closed or leaves repair mode. A never-sent length that
// is too large would be fatal (the new socket would not have "sent" bytes the
// peer has, and drops the peer's ACKs for them as acknowledging unsent data);
// one that is too small, as when a deferred send was swallowed after the
// read, only delays those bytes until a retransmission timeout. The send
// queue snapshot ends at write_seq (TCP_QUEUE_SEQ) whatever was acknowledged
// meanwhile, so its start is computed from the bytes actually peeked.
//
// Restore sizes the socket buffers to hold the saved queues first, because
// refilling under repair and the later normal send of the unsent tail are
// both non-blocking and must not stall on a default-sized buffer.
#include "common/tcp/tcp_state.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <string>

namespace xo::tcp {
namespace {

constexpr int kMaxUserMss = 32767;           // the kernel's limits for TCP_MAXSEG
constexpr int kMinMss = 88;
constexpr std::uint32_t kDefaultMss = 536;   // RFC 1122
constexpr std::size_t kFirstChunk = 1u << 20; // queue refill: first write size
constexpr std::size_t kBufferSlack = 64u << 10;
constexpr int kRecvSnapshotAttempts = 3;

Result<void> set_int(int fd, int level, int name, int value, const std::string& what)
{
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
        return Error::from_errno(what + " = " + std::to_string(value));
    return {};
}

Result<int> get_int(int fd, int level, int name, const char* what)
{
    int value = 0;
    socklen_t len = sizeof value;
    if (::getsockopt(fd, level, name, &value, &len) != 0)
        return Error::from_errno(std::string("get ") + what);
    return value;
}

Result<int> ioctl_int(int fd, unsigned long request, const char* what)
{
    int value = 0;
    if (::ioctl(fd, request, &value) != 0)
        return Error::from_errno(what);
    return value;
}

Result<tcp_info> get_tcp_info(int fd)
{
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
        return Error::from_errno("get TCP_INFO");
    return info;
}

Result<void> select_queue(int fd, int queue)
{
    return set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, queue, "TCP_REPAIR_QUEUE");
}

Result<std::uint32_t> queue_seq(int fd)
{
    auto seq = get_int(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ");
    if (!seq)
        return seq.error();
    return static_cast<std::uint32_t>(*seq);
}

/** The bytes of the selected repair queue, at most @capacity of them. */
Result<std::vector<std::uint8_t>> peek_queue(int fd, std::size_t capacity, const char* which)
{
    std::vector<std::uint8_t> data(capacity);
    if (capacity == 0)
        return data;
    ssize_t n = ::recv(fd, data.data(), data.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0)
        return Error::from_errno(std::string("peek ") + which + " queue of " + std::to_string(capacity) +
                                 " bytes");
    data.resize(static_cast<std::size_t>(n));
    return data;
}

socklen_t to_sockaddr(int family, const TcpEndpoint& ep, sockaddr_storage& out)
{
    std::memset(&out, 0, sizeof out);
    if (family == AF_INET) {
        auto& sin = reinterpret_cast<sockaddr_in&>(out);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(ep.port);
        std::memcpy(&sin.sin_addr, ep.addr.data(), 4);
        return sizeof sin;
    }
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(out);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(ep.port);
    std::memcpy(&sin6.sin6_addr, ep.addr.data(), 16);
    return sizeof sin6;
}

Result<TcpEndpoint> from_sockaddr(const sockaddr_storage& ss, const char* what)
{
    TcpEndpoint ep;
    if (ss.ss_family == AF_INET) {
        const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
        std::memcpy(ep.addr.data(), &sin.sin_addr, 4);
        ep.port = ntohs(sin.sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
        std::memcpy(ep.addr.data(), &sin6.sin6_addr, 16);
        ep.port = ntohs(sin6.sin6_port);
    } else {
        return Error{std::string(what) + ": not an IP socket (family " + std::to_string(ss.ss_family) + ")",
                     EAFNOSUPPORT};
    }
    return ep;
}

Result<void> read_addresses(int fd, TcpState& st)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return Error::from_errno("getsockname");
    auto local = from_sockaddr(ss, "getsockname");
    if (!local)
        return local.error();
    st.family = ss.ss_family;
    st.local = *local;

    len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return Error::from_errno("getpeername");
    auto remote = from_sockaddr(ss, "getpeername");
    if (!remote)
        return remote.error();
    st.remote = *remote;
    return {};
}

Result<void> read_options(int fd, TcpState& st)
{
    auto info = get_tcp_info(fd);
    if (!info)
        return info.error();
    st.sack = (info->tcpi_options & TCPI_OPT_SACK) != 0;
    st.timestamps = (info->tcpi_options & TCPI_OPT_TIMESTAMPS) != 0;
    st.window_scaling = (info->tcpi_options & TCPI_OPT_WSCALE) != 0;
    st.snd_wscale = st.window_scaling ? info->tcpi_snd_wscale : 0;
    st.rcv_wscale = st.window_scaling ? info->tcpi_rcv_wscale : 0;

    auto mss = get_int(fd, IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG");
    if (!mss)
        return mss.error();
    st.mss = static_cast<std::uint16_t>(*mss);

    auto ts = get_int(fd, IPPROTO_TCP, TCP_TIMESTAMP, "TCP_TIMESTAMP");
    if (!ts)
        return ts.error();
    st.timestamp = static_cast<std::uint32_t>(*ts);

    tcp_repair_window win{};
    socklen_t len = sizeof win;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &win, &len) != 0)
        return Error::from_errno("get TCP_REPAIR_WINDOW");
    st.snd_wl1 = win.snd_wl1;
    st.snd_wnd = win.snd_wnd;
    st.max_window = win.max_window;
    st.rcv_wnd = win.rcv_wnd;
    st.rcv_wup = win.rcv_wup;
    return {};
}

/** The error for a @which queue of @size bytes when only @room bytes of kMaxTcpQueuesBytes are left. */
Error queue_too_large(const char* which, int size, std::size_t room)
{
    return Error{std::string(which) + " queue of " + std::to_string(size) + " bytes does not fit the " +
                     std::to_string(room) + " bytes left of the " + std::to_string(kMaxTcpQueuesBytes) +
                     " both queues may hold in a handoff",
                 EMSGSIZE};
}

Result<void> read_send_queue(int fd, TcpState& st, std::size_t room)
{
    // Sized before the queue is selected, which from then on swallows deferred
    // sends: a refused save leaves nothing to retransmit. The queue cannot grow
    // afterwards (its owner is not writing; ACKs only shrink it).
    auto queued = ioctl_int(fd, SIOCOUTQ, "SIOCOUTQ");
    if (!queued)
        return queued.error();
    if (static_cast<std::size_t>(*queued) > room)
        return queue_too_large("send", *queued, room);
    if (auto r = select_queue(fd, TCP_SEND_QUEUE); !r)
        return r.error();
    auto outq = ioctl_int(fd, SIOCOUTQ, "SIOCOUTQ");
    if (!outq)
        return outq.error();
    auto unsent = ioctl_int(fd, SIOCOUTQNSD, "SIOCOUTQNSD");
    if (!unsent)
        return unsent.error();
    auto write_seq = queue_seq(fd);
    if (!write_seq)
        return write_seq.error();
    auto data = peek_queue(fd, static_cast<std::size_t>(*outq), "send");
    if (!data)
        return data.error();
    st.send_queue = std::move(*data);
    st.send_seq = *write_seq - static_cast<std::uint32_t>(st.send_queue.size());
    st.unsent_len = std::min(static_cast<std::uint32_t>(*unsent), static_cast<std::uint32_t>(st.send_queue.size()));
    return {};
}

Result<void> read_recv_queue(int fd, TcpState& st, std::size_t room)
{
    if (auto r = select_queue(fd, TCP_RECV_QUEUE); !r)
        return r.error();
    for (int attempt = 0; attempt < kRecvSnapshotAttempts; ++attempt) {
        auto before = queue_seq(fd);
        if (!before)
            return before.error();
        auto inq = ioctl_int(fd, SIOCINQ, "SIOCINQ");
        if (!inq)
            return inq.error();
        if (static_cast<std::size_t>(*inq) > room)
            return queue_too_large("receive", *inq, room);
        auto data = peek_queue(fd, static_cast<std::size_t>(*inq), "receive");
        if (!data)
            return data.error();
        auto after = queue_seq(fd);
        if (!after)
            return after.error();
        if (*before == *after && data->size() == static_cast<std::size_t>(*inq)) {
            st.recv_queue = std::move(*data);
            st.recv_seq = *after - static_cast<std::uint32_t>(st.recv_queue.size());
            return {};
        }
    }
    return Error{"receive queue kept changing while being saved (is the flow blocked?)", EAGAIN};
}

Result<void> require_established(int fd, const char* when)
{
    auto info = get_tcp_info(fd);
    if (!info)
        return info.error();
    if (info->tcpi_state != TCP_ESTABLISHED)
        return Error{std::string("socket is not ESTABLISHED ") + when + " (TCP state " +
                         std::to_string(info->tcpi_state) + ")",
                     ENOTCONN};
    return {};
}

Result<TcpState> read_state(int fd)
{
    TcpState st;
    if (auto r = read_addresses(fd, st); !r)
        return r.error();
    if (auto r = read_options(fd, st); !r)
        return r.error();
    if (auto r = read_recv_queue(fd, st, kMaxTcpQueuesBytes); !r)
        return r.error();
    // Last, and the send queue stays selected.
    if (auto r = read_send_queue(fd, st, kMaxTcpQueuesBytes - st.recv_queue.size()); !r)
        return r.error();
    // A FIN that arrived meanwhile would be lost with the old socket.
    if (auto r = require_established(fd, "after saving"); !r)
        return r.error();
    return st;
}

/** Make the socket buffer @name hold at least @bytes of queued data. */
Result<void> ensure_buffer(int fd, int name, int force_name, std::size_t bytes, const char* what)
{
    if (bytes == 0)
        return {};
    auto current = get_int(fd, SOL_SOCKET, name, what);
    if (!current)
        return current.error();
    std::size_t wanted = 2 * bytes + kBufferSlack;
    if (static_cast<std::size_t>(*current) >= wanted)
        return {};
    // The kernel doubles the value for bookkeeping overhead.
    return set_int(fd, SOL_SOCKET, force_name, static_cast<int>(wanted / 2), std::string(what) + "FORCE");
}

/** Write @data into the selected repair queue, halving the chunk on ENOMEM. */
Result<void> refill_queue(int fd, std::span<const std::uint8_t> data, const char* which)
{
    std::size_t chunk = kFirstChunk;
    std::size_t done = 0;
    while (done < data.size()) {
        std::size_t len = std::min(chunk, data.size() - done);
        ssize_t n = ::send(fd, data.data() + done, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == ENOMEM && chunk > 1) {
            chunk /= 2;
            continue;
        }
        int err = n < 0 ? errno : EIO;
        return Error::from_errno(std::string("refill ") + which + " queue at byte " + std::to_string(done) + " of " +
                                     std::to_string(data.size()),
                                 err);
    }
    return {};
}

Result<void> set_options(int fd, const TcpState& st)
{
    std::vector<tcp_repair_opt> opts;
    opts.push_back({TCPOPT_MAXSEG, st.mss});
    if (st.window_scaling)
        opts.push_back({TCPOPT_WINDOW, static_cast<std::uint32_t>(st.snd_wscale) |
                                           (static_cast<std::uint32_t>(st.rcv_wscale) << 16)});
    if (st.sack)
        opts.push_back({TCPOPT_SACK_PERMITTED, 0});
    if (st.timestamps)
        opts.push_back({TCPOPT_TIMESTAMP, 0});
    auto len = static_cast<socklen_t>(opts.size() * sizeof(tcp_repair_opt));
    if (::setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts.data(), len) != 0)
        return Error::from_errno("TCP_REPAIR_OPTIONS");
    return set_int(fd, IPPROTO_TCP, TCP_TIMESTAMP, static_cast<int>(st.timestamp), "TCP_TIMESTAMP");
}

Result<void> set_window(int fd, const TcpState& st)
{
    tcp_repair_window win{};
    win.snd_wl1 = st.snd_wl1;
    win.snd_wnd = st.snd_wnd;
    win.max_window = st.max_window;
    win.rcv_wnd = st.rcv_wnd;
    win.rcv_wup = st.rcv_wup;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &win, sizeof win) != 0)
        return Error::from_errno("TCP_REPAIR_WINDOW");
    return {};
}

Result<void> set_queue_seq(int fd, int queue, std::uint32_t seq, const char* which)
{
    if (auto r = select_queue(fd, queue); !r)
        return r.error();
    return set_int(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, static_cast<int>(seq), std::string("TCP_QUEUE_SEQ (") + which + ")");
}

/**
 * The MSS to set with TCP_MAXSEG before connect. The kernel computes the
 * segment size once, at connect, when the window is still unknown; it is
 * bounded by half the peer's largest window only when that window later
 * grows. A peer whose window is below one full-size segment would then never
 * get a segment until a persist probe (a stall of seconds), so the bound the
 * original socket had is applied here. TCP_MAXSEG is capped at 32767 by the
 * kernel; TCP_REPAIR_OPTIONS sets the exact clamp afterwards.
 */
int seed_mss(const TcpState& st)
{
    int mss = std::min<int>(st.mss, kMaxUserMss);
    std::uint32_t half = st.max_window > kDefaultMss ? st.max_window / 2 : st.max_window;
    if (half != 0 && static_cast<std::uint32_t>(mss) > half)
        mss = static_cast<int>(half);
    return std::max(mss, kMinMss);
}

Result<void> bind_and_connect(int fd, const TcpState& st, const TcpEndpoint& local)
{
    if (local.port == 0) {
        if (auto r = set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT"); !r)
            return r.error();
    }
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(st.family, local, ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
        return Error::from_errno("bind to local port " + std::to_string(local.port));
    if (auto r = set_queue_seq(fd, TCP_RECV_QUEUE, st.recv_seq, "receive"); !r)
        return r.error();
    if (auto r = set_queue_seq(fd, TCP_SEND_QUEUE, st.send_seq, "send"); !r)
        return r.error();
    if (auto r = set_int(fd, IPPROTO_TCP, TCP_MAXSEG, seed_mss(st), "TCP_MAXSEG"); !r)
        return r.error();
    len = to_sockaddr(st.family, st.remote, ss);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
        return Error::from_errno("connect (repair) to remote port " + std::to_string(st.remote.port));
    return {};
}

Result<std::uint16_t> local_port(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return Error::from_errno("getsockname after connect");
    auto ep = from_sockaddr(ss, "getsockname after connect");
    if (!ep)
        return ep.error();
    return ep->port;
}

Result<void> restore_into(int fd, const TcpState& st, const TcpEndpoint& local)
{
    if (auto r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); !r)
        return r.error();
    if (auto r = set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON, "TCP_REPAIR"); !r)
        return r.error();
    if (auto r = ensure_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, st.send_queue.size(), "SO_SNDBUF"); !r)
        return r.error();
    if (auto r = ensure_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, st.recv_queue.size(), "SO_RCVBUF"); !r)
        return r.error();
    if (auto r = bind_and_connect(fd, st, local); !r)
        return r.error();
    if (auto r = set_options(fd, st); !r)
        return r.error();
    std::span<const std::uint8_t> sent(st.send_queue.data(), st.send_queue.size() - st.unsent_len);
    if (auto r = select_queue(fd, TCP_RECV_QUEUE); !r)
        return r.error();
    if (auto r = refill_queue(fd, st.recv_queue, "receive"); !r)
        return r.error();
    if (auto r = select_queue(fd, TCP_SEND_QUEUE); !r)
        return r.error();
    if (auto r = refill_queue(fd, sent, "send"); !r)
        return r.error();
    if (auto r = select_queue(fd, TCP_NO_QUEUE); !r)
        return r.error();
    return set_window(fd, st);
}

Result<void> check_restorable(const TcpState& st)
{
    if (st.family != AF_INET && st.family != AF_INET6)
        return Error{"restore: unsupported address family " + std::to_string(st.family), EAFNOSUPPORT};
    if (st.unsent_len > st.send_queue.size())
        return Error{"restore: unsent length " + std::to_string(st.unsent_len) + " exceeds send queue of " +
                         std::to_string(st.send_queue.size()) + " bytes",
                     EINVAL};
    return {};
}

} // namespace

Result<TcpState> save_tcp_state(int fd)
{
    if (auto r = require_established(fd, "before saving"); !r)
        return with_context("save", r.error());
    if (auto r = set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON, "TCP_REPAIR"); !r)
        return with_context("save", r.error());
    auto st = read_state(fd);
    if (st)
        return st;
    // Nothing was changed, so no window probe is needed to resynchronize.
    Error err = with_context("save", st.error());
    int queue = TCP_NO_QUEUE;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof queue) != 0)
        err.message += "; and leaving repair mode failed: " + std::string(std::strerror(errno));
    else if (auto off = repair_off(fd, false); !off)
        err.message += "; and " + off.error().message;
    return err;
}

Result<void> repair_off(int fd, bool window_probe)
{
    if (auto r = set_int(fd, IPPROTO_TCP, TCP_REPAIR, window_probe ? TCP_REPAIR_OFF : TCP_REPAIR_OFF_NO_WP,
                         "TCP_REPAIR off");
        !r)
        return r.error();
    return set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR after repair");
}

Result<RestoredSocket> restore_tcp_state(const TcpState& state, const TcpEndpoint& local)
{
    if (auto r = check_restorable(state); !r)
        return r.error();
    UniqueFd fd(::socket(state.family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd.valid())
        return Error::from_errno("restore: socket");
    // On failure fd closes while in repair mode: silently, nothing on the wire.
    if (auto r = restore_into(fd.get(), state, local); !r)
        return with_context("restore", r.error());
    auto port = local_port(fd.get());
    if (!port)
        return with_context("restore", port.error());
    return RestoredSocket{std::move(fd), *port};
}

Result<void> leave_repair(int fd, const TcpState& state)
{
    if (state.unsent_len > state.send_queue.size())
        return Error{"leave repair: unsent length exceeds the send queue", EINVAL};
    if (auto r = repair_off(fd, true); !r)
        return with_context("leave repair", r.error());
    std::size_t done = state.send_queue.size() - state.unsent_len;
    while (done < state.send_queue.size()) {
        ssize_t n = ::send(fd, state.send_queue.data() + done, state.send_queue.size() - done,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            return Error::from_errno("leave repair: send never-sent tail, " +
                                         std::to_string(state.send_queue.size() - done) + " bytes left",
                                     err);
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

} // namespace xo::tcp
