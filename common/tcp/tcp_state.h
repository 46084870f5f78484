// Theory of operation: moving a live TCP connection between hosts.
//
// XO-Ceph hands a client's connection from the gateway to a responder and
// back without the client noticing. Linux's TCP_REPAIR mode lets a privileged
// process (CAP_NET_ADMIN in the socket's network namespace) read and write a
// socket's hidden state: sequence numbers, both queues, negotiated options,
// timestamp clock and windows. A socket in repair mode sends nothing on its
// own: closing it is silent (no FIN, no RST) and connecting it sends no SYN.
//
// save_tcp_state() snapshots an ESTABLISHED socket into a TcpState, a plain
// value that encode()/decode_tcp_state() carry over the control channel, and
// leaves the socket in repair mode so the caller can close it silently.
// restore_tcp_state() recreates the connection on another socket and keeps
// it in repair mode, because the responder must install its egress source
// rewrite before the first packet leaves. leave_repair() then turns repair
// off (which sends one window probe so the peer resynchronizes at once) and
// writes the part of the send queue that was never on the wire.
//
// The send queue is split because the kernel treats everything written under
// repair as already transmitted (it is only retransmitted after an RTO);
// bytes that were never sent must therefore go through a normal send.
//
// The order of operations follows what was measured on our kernel
// (the team notes, kernel.md): SO_REUSEADDR before TCP_REPAIR on,
// TCP_MAXSEG before connect, options before refilling the send queue, queues
// refilled in chunks halved on ENOMEM, window last.
//
// Local port: when the caller passes port 0 the port is chosen by the kernel
// at the (repair-mode, SYN-less) connect, with IP_BIND_ADDRESS_NO_PORT. The
// kernel's connect-time allocator guarantees the 4-tuple (own address, port,
// client address, client port) is unique on the host and never shares a port
// with a bound or listening socket, and it lets ports be reused across
// different clients, so a responder is not limited to ~28k restored
// connections per address. Consequence for the egress rewrite: its key must
// include the client's address and port, not the local port alone. The port
// chosen is reported back from getsockname().
//
// A save must not race with packets: the flow has to be blocked (or the peer
// quiet) while the state is read, and the old socket closed before anything
// else arrives. This module does not block flows; its callers do.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "common/wire.h"

namespace xo::tcp {

/** TcpEndpoint - an IP address and port; IPv4 uses the first 4 bytes of @addr. */
struct TcpEndpoint {
    std::array<std::uint8_t, 16> addr{};
    std::uint16_t port = 0; ///< host byte order

    bool operator==(const TcpEndpoint&) const = default;
};

/** TcpState - everything needed to recreate an ESTABLISHED TCP connection. */
struct TcpState {
    int family = AF_INET; ///< AF_INET or AF_INET6
    TcpEndpoint local;    ///< where the connection was on the saving host
    TcpEndpoint remote;   ///< the peer (client)

    std::uint32_t send_seq = 0; ///< sequence number of send_queue[0] (first unacknowledged byte)
    std::uint32_t recv_seq = 0; ///< sequence number of recv_queue[0] (first unread byte)

    std::uint16_t mss = 0; ///< the peer's MSS clamp
    bool sack = false;
    bool timestamps = false;
    bool window_scaling = false;
    std::uint8_t snd_wscale = 0;
    std::uint8_t rcv_wscale = 0;
    std::uint32_t timestamp = 0; ///< our TCP timestamp clock at save time (TCP_TIMESTAMP)

    std::uint32_t snd_wl1 = 0; ///< TCP_REPAIR_WINDOW fields, see struct tcp_repair_window
    std::uint32_t snd_wnd = 0;
    std::uint32_t max_window = 0;
    std::uint32_t rcv_wnd = 0;
    std::uint32_t rcv_wup = 0;

    std::vector<std::uint8_t> send_queue; ///< unacknowledged bytes, sent part first
    std::uint32_t unsent_len = 0;         ///< trailing bytes of send_queue never transmitted
    std::vector<std::uint8_t> recv_queue; ///< received bytes the application has not read

    bool operator==(const TcpState&) const = default;
};

/** RestoredSocket - a recreated connection, still in repair mode. */
struct RestoredSocket {
    UniqueFd fd;
    std::uint16_t local_port = 0; ///< host byte order
};

/*
 * Size limits. A saved state travels in one handoff message, whose TCP state
 * field holds at most kMaxEncodedTcpState bytes (handoff_messages.h takes its
 * limit from here), so both queues together may hold at most what is left of
 * that after the fixed fields. save_tcp_state() refuses a socket holding more,
 * before copying anything and leaving it usable, so its caller relays instead;
 * decode_tcp_state() rejects more. A saved state therefore always fits its
 * message. 8 MiB bounds what one handoff holds in memory (the state, its
 * encoding and its frame, on each host) while fitting what a connection
 * queues at Linux's default buffer limits (tcp_wmem: a send queue of at most
 * 4 MiB; the receive queue at a handoff holds only pipelined requests).
 */
inline constexpr std::size_t kMaxEncodedTcpState = 8u << 20;
/** The most encode() writes besides the queues' bytes (an IPv6 state). */
inline constexpr std::size_t kTcpStateFixedBytes = 87;
/** The most both queues of a TcpState may hold together. */
inline constexpr std::size_t kMaxTcpQueuesBytes = kMaxEncodedTcpState - kTcpStateFixedBytes;

/**
 * save_tcp_state() - snapshot an ESTABLISHED TCP socket.
 * @fd: a connected TCP socket (blocking or not).
 *
 * Puts @fd into repair mode and leaves it there on success: the caller closes
 * it in repair mode so that nothing reaches the wire. On failure (including a
 * socket that is not ESTABLISHED, or one whose queues hold more than
 * kMaxTcpQueuesBytes together: EMSGSIZE) repair mode is turned off again,
 * without a window probe, and the socket stays usable. Needs CAP_NET_ADMIN.
 *
 * Return: the state, or an error naming the step that failed.
 */
Result<TcpState> save_tcp_state(int fd);

/**
 * restore_tcp_state() - recreate a saved connection on a new socket.
 * @state: what save_tcp_state() returned, possibly on another host.
 * @local: the address to bind (in @state.family); port 0 lets the kernel
 *         choose a port that keeps the 4-tuple unique on this host.
 *
 * The socket stays in repair mode: nothing has been sent when this returns.
 * Call leave_repair() once packets from this socket can reach the peer.
 * The descriptor is blocking and close-on-exec.
 *
 * Return: the owning descriptor and the local port in use, or an error.
 */
Result<RestoredSocket> restore_tcp_state(const TcpState& state, const TcpEndpoint& local);

/**
 * leave_repair() - put a restored socket into normal operation.
 * @fd: a socket returned by restore_tcp_state() for @state.
 * @state: the state it was restored from.
 *
 * Turns TCP_REPAIR off with repair_off() (a window probe goes out) and
 * queues the never-sent tail of the send queue with a normal, non-blocking
 * send. restore_tcp_state() sized the send buffer to hold it, so a short
 * write is an error.
 *
 * Return: nothing, or an error.
 */
Result<void> leave_repair(int fd, const TcpState& state);

/**
 * repair_off() - take @fd out of repair mode, with SO_REUSEADDR on again.
 * @window_probe: TCP_REPAIR_OFF (the peer resynchronizes at once) or
 *                TCP_REPAIR_OFF_NO_WP (nothing changed, nothing to say).
 *
 * Leaving repair mode also clears SO_REUSEADDR (the kernel sets sk_reuse to
 * SK_NO_REUSE). Every socket here is a connection on a listener's port —
 * accepted there, or restored onto it — and one without SO_REUSEADDR keeps a
 * new listener from binding that port until it is gone, TIME_WAIT included:
 * a restarted gateway could not listen.
 */
Result<void> repair_off(int fd, bool window_probe);

/** encode() - append @state to @out in the wire layout read by decode_tcp_state(). */
void encode(const TcpState& state, WireWriter& out);

/**
 * decode_tcp_state() - read a TcpState written by encode().
 * @in: the reader, positioned at the state.
 * @max_queues_bytes: reject send and receive queues longer than this together.
 *
 * Checks the version, family, option values and that the unsent length fits
 * the send queue; the kernel checks the rest at restore time.
 *
 * Return: the state, or an error for truncated or invalid input.
 */
Result<TcpState> decode_tcp_state(WireReader& in, std::size_t max_queues_bytes = kMaxTcpQueuesBytes);

} // namespace xo::tcp
