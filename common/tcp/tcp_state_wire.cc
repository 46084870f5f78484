// Theory of operation: the wire form of a TcpState, as shipped from the
// gateway to a responder. A version byte comes first so the layout can grow.
// Addresses are written at their natural length (4 or 16 bytes) after a
// family byte of 4 or 6, so the encoding does not depend on the host's
// AF_INET6 value. Decoding rejects anything a restore could misread: unknown
// version, family or option bits, window scales beyond RFC 7323, queues over
// the caller's limit (both together) and an unsent tail longer than the send
// queue. Values only the kernel can judge (sequence numbers, windows) are left
// to it.
#include <sys/socket.h>

#include <string>

#include "common/tcp/tcp_state.h"

namespace xo::tcp {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kFlagSack = 1;
constexpr std::uint8_t kFlagTimestamps = 2;
constexpr std::uint8_t kFlagWindowScaling = 4;
constexpr std::uint8_t kKnownFlags = kFlagSack | kFlagTimestamps | kFlagWindowScaling;
constexpr std::uint8_t kMaxWindowScale = 14;

std::size_t address_length(int family) { return family == AF_INET ? 4 : 16; }

void put_endpoint(const TcpEndpoint& ep, int family, WireWriter& out)
{
    out.raw(std::span(ep.addr.data(), address_length(family)));
    out.u16(ep.port);
}

Result<TcpEndpoint> get_endpoint(int family, WireReader& in)
{
    TcpEndpoint ep;
    auto addr = in.raw(address_length(family));
    if (!addr)
        return addr.error();
    std::copy(addr->begin(), addr->end(), ep.addr.begin());
    auto port = in.u16();
    if (!port)
        return port.error();
    ep.port = *port;
    return ep;
}

Result<int> get_family(WireReader& in)
{
    auto code = in.u8();
    if (!code)
        return code.error();
    if (*code == 4)
        return AF_INET;
    if (*code == 6)
        return AF_INET6;
    return Error{"unknown address family code " + std::to_string(*code), EINVAL};
}

/** Read a u32 into @field, returning false (with @err set) on failure. */
bool get_u32(WireReader& in, std::uint32_t& field, Error& err)
{
    auto v = in.u32();
    if (!v) {
        err = v.error();
        return false;
    }
    field = *v;
    return true;
}

Result<void> get_options(WireReader& in, TcpState& st)
{
    auto mss = in.u16();
    if (!mss)
        return mss.error();
    st.mss = *mss;
    auto flags = in.u8();
    if (!flags)
        return flags.error();
    if ((*flags & ~kKnownFlags) != 0)
        return Error{"unknown option flags " + std::to_string(*flags), EINVAL};
    st.sack = (*flags & kFlagSack) != 0;
    st.timestamps = (*flags & kFlagTimestamps) != 0;
    st.window_scaling = (*flags & kFlagWindowScaling) != 0;
    auto snd = in.u8();
    if (!snd)
        return snd.error();
    auto rcv = in.u8();
    if (!rcv)
        return rcv.error();
    if (*snd > kMaxWindowScale || *rcv > kMaxWindowScale || (!st.window_scaling && (*snd != 0 || *rcv != 0)))
        return Error{"invalid window scales " + std::to_string(*snd) + "/" + std::to_string(*rcv), EINVAL};
    st.snd_wscale = *snd;
    st.rcv_wscale = *rcv;
    return {};
}

Result<void> get_body(WireReader& in, TcpState& st, std::size_t max_queues_bytes)
{
    Error err;
    if (!get_u32(in, st.send_seq, err) || !get_u32(in, st.recv_seq, err))
        return err;
    if (auto r = get_options(in, st); !r)
        return r.error();
    if (!get_u32(in, st.timestamp, err) || !get_u32(in, st.snd_wl1, err) || !get_u32(in, st.snd_wnd, err) ||
        !get_u32(in, st.max_window, err) || !get_u32(in, st.rcv_wnd, err) || !get_u32(in, st.rcv_wup, err))
        return err;
    auto send_queue = in.bytes(max_queues_bytes);
    if (!send_queue)
        return with_context("send queue", send_queue.error());
    st.send_queue = std::move(*send_queue);
    if (!get_u32(in, st.unsent_len, err))
        return err;
    if (st.unsent_len > st.send_queue.size())
        return Error{"unsent length " + std::to_string(st.unsent_len) + " exceeds send queue of " +
                         std::to_string(st.send_queue.size()) + " bytes",
                     EINVAL};
    auto recv_queue = in.bytes(max_queues_bytes - st.send_queue.size());
    if (!recv_queue)
        return with_context("receive queue", recv_queue.error());
    st.recv_queue = std::move(*recv_queue);
    return {};
}

} // namespace

void encode(const TcpState& st, WireWriter& out)
{
    out.u8(kVersion);
    out.u8(st.family == AF_INET ? 4 : 6);
    put_endpoint(st.local, st.family, out);
    put_endpoint(st.remote, st.family, out);
    out.u32(st.send_seq);
    out.u32(st.recv_seq);
    out.u16(st.mss);
    out.u8(static_cast<std::uint8_t>((st.sack ? kFlagSack : 0) | (st.timestamps ? kFlagTimestamps : 0) |
                                     (st.window_scaling ? kFlagWindowScaling : 0)));
    out.u8(st.snd_wscale);
    out.u8(st.rcv_wscale);
    out.u32(st.timestamp);
    out.u32(st.snd_wl1);
    out.u32(st.snd_wnd);
    out.u32(st.max_window);
    out.u32(st.rcv_wnd);
    out.u32(st.rcv_wup);
    out.bytes(st.send_queue);
    out.u32(st.unsent_len);
    out.bytes(st.recv_queue);
}

Result<TcpState> decode_tcp_state(WireReader& in, std::size_t max_queues_bytes)
{
    auto version = in.u8();
    if (!version)
        return with_context("decode TCP state", version.error());
    if (*version != kVersion)
        return Error{"decode TCP state: unsupported version " + std::to_string(*version), EINVAL};
    TcpState st;
    auto family = get_family(in);
    if (!family)
        return with_context("decode TCP state", family.error());
    st.family = *family;
    auto local = get_endpoint(st.family, in);
    if (!local)
        return with_context("decode TCP state: local endpoint", local.error());
    st.local = *local;
    auto remote = get_endpoint(st.family, in);
    if (!remote)
        return with_context("decode TCP state: remote endpoint", remote.error());
    st.remote = *remote;
    if (auto r = get_body(in, st, max_queues_bytes); !r)
        return with_context("decode TCP state", r.error());
    return st;
}

} // namespace xo::tcp
