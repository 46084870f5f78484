// Theory of operation: a TLS connection after its handshake, as the gateway
// holds it: a Sealer for what it sends, an Opener for what it reads, and the
// ciphertext received but not yet opened. No I/O: the caller puts received
// ciphertext in, takes plaintext out, and sends what write() and
// pending_output() produce. Protocol duties live here, not in callers:
//
//   - a KeyUpdate from the peer rolls the read key; if it requested ours, our
//     KeyUpdate goes out before any further application data;
//   - close_notify ends reading (read() reports closed); close() seals ours;
//   - a fatal error queues its alert and makes every later call fail.
//
// Handoff: tx_state() is what travels to a responder (after
// prepare_handoff(), which rolls a TLS 1.3 key near its limit and refuses a
// TLS 1.2 one). resume_tx() takes back the state the responder returned
// (same suite and key, seq not behind ours). Read state and buffered
// ciphertext never leave the gateway; ciphertext the client sent while the
// responder held the connection comes back with it and is received() after
// what is already buffered.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/tls/record_layer.h"

namespace xo::tls {

class Session {
public:
    Session(Sealer tx, Opener rx, std::vector<std::uint8_t> received_ciphertext);

    /** received() - append ciphertext read from the socket. */
    void received(std::span<const std::uint8_t> ciphertext);

    /** has_input() - ciphertext is buffered (a read may not need the socket). */
    bool has_input() const { return !in_.empty(); }

    enum class ReadStatus { data, need_more, closed, failed };

    /**
     * read() - open buffered records until application data is appended to
     * @plaintext (data), more ciphertext is needed, the peer closed, or a
     * fatal error (its alert is then in pending_output()).
     */
    ReadStatus read(std::vector<std::uint8_t>& plaintext);

    /** write() - append records for @plaintext (after any pending output) to @out. */
    Result<void> write(std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out);

    /** pending_output() - alerts and KeyUpdates that must be sent even without data; drained by the caller. */
    std::vector<std::uint8_t>& pending_output() { return pending_; }

    /** close() - append our close_notify to @out. */
    Result<void> close(std::vector<std::uint8_t>& out);

    /** max_plaintext() - the record size cap both directions honour. */
    std::size_t max_plaintext() const;

    /** prepare_handoff() - make tx movable now (roll a 1.3 key near its limit into @out); error: relay instead. */
    Result<void> prepare_handoff(std::vector<std::uint8_t>& out);
    const DirectionState& tx_state() const;
    /** resume_tx() - continue sending from the state a responder returned. */
    Result<void> resume_tx(DirectionState returned);

    /** set_roll_threshold() - records per TLS 1.3 send key before write()/prepare_handoff() roll it (Sealer's). */
    void set_roll_threshold(std::uint64_t records);

private:
    Sealer tx_;
    Opener rx_;
    std::vector<std::uint8_t> in_;      ///< received, not yet opened
    std::vector<std::uint8_t> pending_; ///< to send before anything else
    bool failed_ = false;
    bool peer_closed_ = false;
};

} // namespace xo::tls
