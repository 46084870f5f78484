#include "common/tls/session.h"

#include <openssl/crypto.h>

#include <string>

namespace xo::tls {

Session::Session(Sealer tx, Opener rx, std::vector<std::uint8_t> received_ciphertext)
    : tx_(std::move(tx)), rx_(std::move(rx)), in_(std::move(received_ciphertext))
{
}

void Session::received(std::span<const std::uint8_t> ciphertext)
{
    in_.insert(in_.end(), ciphertext.begin(), ciphertext.end());
}

Session::ReadStatus Session::read(std::vector<std::uint8_t>& plaintext)
{
    if (failed_)
        return ReadStatus::failed;
    if (peer_closed_)
        return ReadStatus::closed;
    const std::size_t before = plaintext.size();
    std::size_t used = 0;
    ReadStatus status = ReadStatus::need_more;
    bool whole_record = true;
    while (status == ReadStatus::need_more && whole_record) {
        Opened o = rx_.open(std::span(in_).subspan(used), plaintext);
        used += o.consumed;
        switch (o.kind) {
        case Opened::Kind::need_more:
            whole_record = false;
            break;
        case Opened::Kind::data:
            // A zero-length record (allowed) is no data for the caller: go on.
            if (plaintext.size() > before)
                status = ReadStatus::data;
            break;
        case Opened::Kind::key_update:
            // RFC 8446 §4.6.3: our KeyUpdate precedes our next application data.
            if (o.requested) {
                auto r = tx_.seal_key_update(false, pending_);
                if (!r) {
                    failed_ = true;
                    (void)tx_.seal_alert(Alert::internal_error, pending_);
                    status = ReadStatus::failed;
                }
            }
            break;
        case Opened::Kind::close_notify:
            peer_closed_ = true;
            status = plaintext.size() > before ? ReadStatus::data : ReadStatus::closed;
            break;
        case Opened::Kind::alert:
            failed_ = true;
            status = ReadStatus::failed;
            break;
        case Opened::Kind::failed:
            failed_ = true;
            (void)tx_.seal_alert(o.alert, pending_);
            status = ReadStatus::failed;
            break;
        }
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(used));
    return status;
}

Result<void> Session::write(std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out)
{
    if (failed_)
        return Error{"TLS session failed: nothing more is sent"};
    out.insert(out.end(), pending_.begin(), pending_.end());
    pending_.clear();
    // A TLS 1.3 key near its limit rolls before more data (RFC 8446 §5.5).
    if (tx_.state().version == Version::tls13 && tx_.near_key_limit()) {
        auto r = tx_.seal_key_update(false, out);
        if (!r)
            return r;
    }
    return tx_.seal(plaintext, out);
}

Result<void> Session::close(std::vector<std::uint8_t>& out)
{
    out.insert(out.end(), pending_.begin(), pending_.end());
    pending_.clear();
    if (failed_)
        return Error{"TLS session failed: its alert was the last record"};
    return tx_.seal_alert(Alert::close_notify, out);
}

void Session::set_roll_threshold(std::uint64_t records) { tx_.set_roll_threshold(records); }

std::size_t Session::max_plaintext() const { return tx_.state().max_plaintext; }

Result<void> Session::prepare_handoff(std::vector<std::uint8_t>& out)
{
    if (failed_)
        return Error{"TLS session failed"};
    // Records already sealed must reach the wire before the responder's.
    out.insert(out.end(), pending_.begin(), pending_.end());
    pending_.clear();
    if (!tx_.near_key_limit())
        return {};
    if (tx_.state().version != Version::tls13)
        return Error{"TLS 1.2 send key near its record limit: cannot move (no rekey in TLS 1.2)"};
    return tx_.seal_key_update(false, out);
}

const DirectionState& Session::tx_state() const { return tx_.state(); }

Result<void> Session::resume_tx(DirectionState returned)
{
    const DirectionState& ours = tx_.state();
    auto same = [](const SecretBytes& a, const SecretBytes& b) {
        return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
    };
    if (returned.version != ours.version || returned.suite != ours.suite)
        return Error{"returned TLS state has another version or suite"};
    if (!same(returned.key, ours.key) || !same(returned.iv, ours.iv) || !same(returned.secret, ours.secret))
        return Error{"returned TLS state has another key"};
    if (returned.seq < ours.seq)
        return Error{"returned TLS state is behind ours: seq " + std::to_string(returned.seq) + " < " +
                     std::to_string(ours.seq)};
    if (returned.max_plaintext != ours.max_plaintext)
        return Error{"returned TLS state has another record size cap"};
    auto sealer = Sealer::make(std::move(returned));
    if (!sealer)
        return with_context("resume TLS send state", sealer.error());
    sealer->set_roll_threshold(tx_.roll_threshold());
    tx_ = std::move(*sealer);
    return {};
}

} // namespace xo::tls
