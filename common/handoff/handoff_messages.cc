#include "common/handoff/handoff_messages.h"

#include <type_traits>

#include "common/wire.h"

namespace xo::handoff {

namespace {

constexpr std::size_t flow_size = 8;
constexpr std::size_t len_size = 4;

template <typename T> struct TypeOf;
template <> struct TypeOf<Offer> { static constexpr auto value = MessageType::offer; };
template <> struct TypeOf<Ready> { static constexpr auto value = MessageType::ready; };
template <> struct TypeOf<Go> { static constexpr auto value = MessageType::go; };
template <> struct TypeOf<Refuse> { static constexpr auto value = MessageType::refuse; };
template <> struct TypeOf<Abort> { static constexpr auto value = MessageType::abort; };
template <> struct TypeOf<ReturnPrepare> { static constexpr auto value = MessageType::return_prepare; };
template <> struct TypeOf<Return> { static constexpr auto value = MessageType::return_conn; };
template <> struct TypeOf<Done> { static constexpr auto value = MessageType::done; };
template <> struct TypeOf<Progress> { static constexpr auto value = MessageType::progress; };

// An address is absent, IPv4 or IPv6.
Result<void> check_address(std::size_t size)
{
    if (size != 0 && size != 4 && size != 16)
        return Error{"local address must be 0, 4 or 16 bytes, not " + std::to_string(size)};
    return {};
}

bool known_type(std::uint8_t t)
{
    return t >= static_cast<std::uint8_t>(MessageType::offer) && t <= static_cast<std::uint8_t>(MessageType::progress);
}

Result<void> check_field(std::string_view name, std::size_t size, std::size_t limit)
{
    if (size > limit)
        return Error{std::string(name) + " of " + std::to_string(size) + " bytes exceeds its limit of " +
                     std::to_string(limit)};
    return {};
}

// Per-type payload encoders. Limits are checked by encode() before these run.
void put(WireWriter& w, const Offer& m)
{
    w.bytes(m.tcp_state);
    w.bytes(m.read_ahead);
    w.bytes(m.app_payload);
    w.bytes(m.ticket);
}

void put(WireWriter& w, const Ready& m)
{
    w.bytes(m.local_address);
    w.u16(m.local_port);
}

void put(WireWriter& w, const Refuse& m)
{
    w.u16(static_cast<std::uint16_t>(m.reason));
    w.bytes(m.text);
}

void put(WireWriter& w, const Abort& m)
{
    w.u8(m.resumable ? 1 : 0);
    w.bytes(m.text);
}

void put(WireWriter& w, const Progress& m) { w.u64(m.acked); }

void put(WireWriter& w, const Return& m)
{
    w.bytes(m.tcp_state);
    w.bytes(m.read_ahead);
    w.bytes(m.app_payload);
}

void put(WireWriter&, const Go&) {}
void put(WireWriter&, const ReturnPrepare&) {}
void put(WireWriter&, const Done&) {}

Result<void> check_limits(const Message& m)
{
    return std::visit(
        [](const auto& msg) -> Result<void> {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, Offer>) {
                for (auto r : {check_field("tcp state", msg.tcp_state.size(), max_tcp_state),
                               check_field("read-ahead", msg.read_ahead.size(), max_read_ahead),
                               check_field("application payload", msg.app_payload.size(), max_app_payload),
                               check_field("ticket", msg.ticket.size(), max_ticket)})
                    if (!r)
                        return r;
            } else if constexpr (std::is_same_v<T, Return>) {
                for (auto r : {check_field("tcp state", msg.tcp_state.size(), max_tcp_state),
                               check_field("read-ahead", msg.read_ahead.size(), max_read_ahead),
                               check_field("application payload", msg.app_payload.size(), max_app_payload)})
                    if (!r)
                        return r;
            } else if constexpr (std::is_same_v<T, Ready>) {
                return check_address(msg.local_address.size());
            } else if constexpr (std::is_same_v<T, Refuse> || std::is_same_v<T, Abort>) {
                return check_field("reason text", msg.text.size(), max_reason_text);
            }
            return {};
        },
        m);
}

// Per-type payload decoders; the flow id has been read already.

/** The fields that carry a connection, shared by OFFER and RETURN. */
struct ConnectionFields {
    Bytes tcp_state, read_ahead, app_payload;
};

Result<ConnectionFields> get_connection_fields(WireReader& r)
{
    auto state = r.bytes(max_tcp_state);
    if (!state)
        return with_context("tcp state", state.error());
    auto ahead = r.bytes(max_read_ahead);
    if (!ahead)
        return with_context("read-ahead", ahead.error());
    auto app = r.bytes(max_app_payload);
    if (!app)
        return with_context("application payload", app.error());
    return ConnectionFields{std::move(*state), std::move(*ahead), std::move(*app)};
}

Result<Message> get_offer(WireReader& r, std::uint64_t flow)
{
    auto conn = get_connection_fields(r);
    if (!conn)
        return conn.error();
    auto ticket = r.bytes(max_ticket);
    if (!ticket)
        return with_context("ticket", ticket.error());
    return Message{Offer{.flow_id = flow,
                         .tcp_state = std::move(conn->tcp_state),
                         .read_ahead = std::move(conn->read_ahead),
                         .app_payload = std::move(conn->app_payload),
                         .ticket = std::move(*ticket)}};
}

Result<Message> get_ready(WireReader& r, std::uint64_t flow)
{
    auto addr = r.bytes(max_address);
    if (!addr)
        return with_context("local address", addr.error());
    if (auto ok = check_address(addr->size()); !ok)
        return ok.error();
    auto port = r.u16();
    if (!port)
        return with_context("local port", port.error());
    return Message{Ready{.flow_id = flow, .local_address = std::move(*addr), .local_port = *port}};
}

Result<Message> get_refuse(WireReader& r, std::uint64_t flow)
{
    auto reason = r.u16();
    if (!reason)
        return with_context("refuse reason", reason.error());
    auto text = r.string(max_reason_text);
    if (!text)
        return with_context("reason text", text.error());
    return Message{Refuse{.flow_id = flow, .reason = static_cast<RefuseReason>(*reason), .text = std::move(*text)}};
}

Result<Message> get_abort(WireReader& r, std::uint64_t flow)
{
    auto resumable = r.u8();
    if (!resumable)
        return with_context("resumable flag", resumable.error());
    if (*resumable > 1)
        return Error{"resumable flag must be 0 or 1, not " + std::to_string(*resumable)};
    auto text = r.string(max_reason_text);
    if (!text)
        return with_context("reason text", text.error());
    return Message{Abort{.flow_id = flow, .text = std::move(*text), .resumable = *resumable == 1}};
}

Result<Message> get_progress(WireReader& r, std::uint64_t flow)
{
    auto acked = r.u64();
    if (!acked)
        return with_context("acknowledged bytes", acked.error());
    return Message{Progress{.flow_id = flow, .acked = *acked}};
}

Result<Message> get_return(WireReader& r, std::uint64_t flow)
{
    auto conn = get_connection_fields(r);
    if (!conn)
        return conn.error();
    return Message{Return{.flow_id = flow,
                          .tcp_state = std::move(conn->tcp_state),
                          .read_ahead = std::move(conn->read_ahead),
                          .app_payload = std::move(conn->app_payload)}};
}

Result<Message> get_body(MessageType type, WireReader& r, std::uint64_t flow)
{
    switch (type) {
    case MessageType::offer: return get_offer(r, flow);
    case MessageType::ready: return get_ready(r, flow);
    case MessageType::go: return Message{Go{flow}};
    case MessageType::refuse: return get_refuse(r, flow);
    case MessageType::abort: return get_abort(r, flow);
    case MessageType::return_prepare: return Message{ReturnPrepare{flow}};
    case MessageType::return_conn: return get_return(r, flow);
    case MessageType::done: return Message{Done{flow}};
    case MessageType::progress: return get_progress(r, flow);
    }
    return Error{"unknown message type " + std::to_string(static_cast<unsigned>(type))};
}

} // namespace

std::uint64_t flow_id(const Message& m)
{
    return std::visit([](const auto& msg) { return msg.flow_id; }, m);
}

MessageType type_of(const Message& m)
{
    return std::visit([](const auto& msg) { return TypeOf<std::decay_t<decltype(msg)>>::value; }, m);
}

std::string_view type_name(MessageType type)
{
    switch (type) {
    case MessageType::offer: return "OFFER";
    case MessageType::ready: return "READY";
    case MessageType::go: return "GO";
    case MessageType::refuse: return "REFUSE";
    case MessageType::abort: return "ABORT";
    case MessageType::return_prepare: return "RETURN_PREPARE";
    case MessageType::return_conn: return "RETURN";
    case MessageType::done: return "DONE";
    case MessageType::progress: return "PROGRESS";
    }
    return "unknown";
}

std::size_t max_payload(MessageType type)
{
    switch (type) {
    case MessageType::offer:
        return flow_size + 4 * len_size + max_tcp_state + max_read_ahead + max_app_payload + max_ticket;
    case MessageType::ready: return flow_size + len_size + max_address + 2;
    case MessageType::refuse: return flow_size + 2 + len_size + max_reason_text;
    case MessageType::abort: return flow_size + 1 + len_size + max_reason_text;
    case MessageType::progress: return flow_size + 8;
    case MessageType::return_conn:
        return flow_size + 3 * len_size + max_tcp_state + max_read_ahead + max_app_payload;
    case MessageType::go:
    case MessageType::return_prepare:
    case MessageType::done: return flow_size;
    }
    return 0;
}

Result<Bytes> encode(const Message& m)
{
    if (auto ok = check_limits(m); !ok)
        return with_context(std::string("encode ") + std::string(type_name(type_of(m))), ok.error());
    WireWriter body;
    body.u64(flow_id(m));
    std::visit([&body](const auto& msg) { put(body, msg); }, m);

    WireWriter frame;
    frame.u16(frame_magic);
    frame.u8(protocol_version);
    frame.u8(static_cast<std::uint8_t>(type_of(m)));
    frame.bytes(body.data());
    return frame.take();
}

Result<FrameHeader> decode_header(std::span<const std::uint8_t> in)
{
    WireReader r(in);
    auto magic = r.u16();
    auto version = r.u8();
    auto type = r.u8();
    auto length = r.u32();
    if (!magic || !version || !type || !length)
        return Error{"frame header truncated: " + std::to_string(in.size()) + " of " + std::to_string(header_size) +
                     " bytes"};
    if (*magic != frame_magic)
        return Error{"not a handoff frame: bad magic " + std::to_string(*magic)};
    if (*version != protocol_version)
        return Error{"unsupported protocol version " + std::to_string(*version) + " (this side speaks " +
                     std::to_string(protocol_version) + ")"};
    if (!known_type(*type))
        return Error{"unknown message type " + std::to_string(*type)};
    auto t = static_cast<MessageType>(*type);
    if (*length > max_payload(t))
        return Error{std::string(type_name(t)) + " payload of " + std::to_string(*length) +
                     " bytes exceeds its limit of " + std::to_string(max_payload(t))};
    return FrameHeader{t, *length};
}

Result<Message> decode_payload(MessageType type, std::span<const std::uint8_t> payload)
{
    WireReader r(payload);
    auto flow = r.u64();
    if (!flow)
        return with_context(std::string(type_name(type)) + " flow id", flow.error());
    auto m = get_body(type, r, *flow);
    if (!m)
        return with_context(std::string(type_name(type)), m.error());
    if (!r.at_end())
        return Error{std::string(type_name(type)) + ": " + std::to_string(r.remaining()) +
                     " bytes of trailing garbage"};
    return m;
}

Result<Message> decode(std::span<const std::uint8_t> frame)
{
    auto header = decode_header(frame);
    if (!header)
        return header.error();
    auto payload = frame.subspan(std::min(frame.size(), header_size));
    if (payload.size() < header->payload_length)
        return Error{"frame truncated: payload has " + std::to_string(payload.size()) + " of " +
                     std::to_string(header->payload_length) + " bytes"};
    if (payload.size() > header->payload_length)
        return Error{std::to_string(payload.size() - header->payload_length) + " bytes of trailing garbage after frame"};
    return decode_payload(header->type, payload);
}

} // namespace xo::handoff
