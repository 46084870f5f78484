// Theory of operation: the responder's half of an HTTPS handoff. The
// gateway's OFFER carries the connection's TLS send state; a TlsSink seals
// what the streamer writes into records of that connection — the next
// sequence numbers, the same key, records no larger than the client's
// max_fragment_length — and passes the ciphertext to the socket's sink.
// Only the send direction is here: the responder never reads the client's
// records (what the client sends meanwhile returns to the gateway as
// ciphertext, with the connection). state() is the advanced send state the
// RETURN carries back, so the gateway's next record follows the responder's
// last one.
#pragma once

#include <cstdint>
#include <vector>

#include "osd_xo/byte_sink.h"
#include "common/metrics.h"
#include "common/tls/record_layer.h"

namespace xo::rsp {

class TlsSink final : public ByteSink {
public:
    /**
     * TlsSink() - seal with @sealer into @inner (which outlives the sink).
     * @sent: counts the object bytes (plaintext) written; may be null.
     */
    TlsSink(tls::Sealer sealer, ByteSink& inner, metrics::Counter* sent)
        : sealer_(std::move(sealer)), inner_(inner), sent_(sent)
    {
    }

    boost::asio::awaitable<Result<void>> write(std::span<const std::uint8_t> bytes) override;

    const tls::DirectionState& state() const { return sealer_.state(); }

private:
    tls::Sealer sealer_;
    ByteSink& inner_;
    metrics::Counter* sent_;
    std::vector<std::uint8_t> records_;
};

} // namespace xo::rsp
