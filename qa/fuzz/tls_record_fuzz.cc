// libFuzzer target for the TLS record layer's receiving side
// (common/tls/record_layer.*, session.*): the code that opens the records a
// TLS client sends to xo-gateway.
//
// Theory of operation: the first input byte picks one of the six suites (a
// fixed key per suite), the second a mode.
//  - raw (even): the rest is ciphertext from an attacker without the key,
//    fed to a Session and, record by record, to an Opener. Nothing may
//    authenticate: any plaintext, KeyUpdate, close_notify or alert that
//    came out would be a forgery, so the target aborts; every result must be
//    need_more or a failure, with no crash or overread on any header,
//    length or truncation.
//  - sealed (odd): the rest is a script of records — [kind][length][bytes] —
//    that the target seals with the right key (application data, alerts,
//    TLS 1.3 KeyUpdates) and then reads back through a Session, so the
//    paths after authentication (inner type, KeyUpdate, alerts, buffering)
//    run too. The plaintext read must be exactly the data sealed before the
//    first alert, and a requested KeyUpdate must be answered.
//
// Build and run as handoff_decode_fuzz.cc describes, with the target
// xo_tls_record_fuzz.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/tls/record_layer.h"
#include "common/tls/session.h"

namespace {

using namespace xo::tls;

struct SuiteId {
    Version version;
    std::uint16_t id;
};
constexpr std::array<SuiteId, 6> suites{{{Version::tls13, 0x1301},
                                         {Version::tls13, 0x1302},
                                         {Version::tls13, 0x1303},
                                         {Version::tls12, 0xc02b},
                                         {Version::tls12, 0xc030},
                                         {Version::tls12, 0xcca8}}};

DirectionState fixed_state(const SuiteId& s)
{
    auto suite = find_suite(s.version, s.id);
    DirectionState st;
    st.version = s.version;
    st.suite = s.id;
    st.key.assign(suite->key_length, 0x4b);
    st.iv.assign(suite->iv_length, 0x1d);
    if (s.version == Version::tls13)
        st.secret.assign(static_cast<std::size_t>(EVP_MD_get_size(suite->hash())), 0x5e);
    st.seq = 3;
    return st;
}

Session make_session(const DirectionState& st, std::vector<std::uint8_t> in)
{
    auto tx = Sealer::make(st);
    auto rx = Opener::make(st);
    if (!tx || !rx)
        std::abort(); // the fixed states are valid
    return Session(std::move(*tx), std::move(*rx), std::move(in));
}

void raw(const DirectionState& st, std::span<const std::uint8_t> in)
{
    Session session = make_session(st, std::vector<std::uint8_t>(in.begin(), in.end()));
    std::vector<std::uint8_t> plaintext;
    auto status = session.read(plaintext);
    if (!plaintext.empty() || status == Session::ReadStatus::data || status == Session::ReadStatus::closed)
        std::abort(); // unauthenticated bytes were accepted
    auto opener = Opener::make(st);
    for (std::size_t at = 0; at < in.size();) {
        Opened o = opener->open(in.subspan(at), plaintext);
        if (o.kind != Opened::Kind::need_more && o.kind != Opened::Kind::failed)
            std::abort(); // unauthenticated record accepted
        if (!plaintext.empty() || opener->state().seq != st.seq)
            std::abort(); // data or a sequence step without authentication
        if (o.consumed == 0)
            break;
        at += o.consumed;
    }
}

void sealed(const DirectionState& st, std::span<const std::uint8_t> script)
{
    auto sealer = Sealer::make(st);
    std::vector<std::uint8_t> records, expected;
    bool ended = false, owes_key_update = false;
    for (std::size_t at = 0; at + 2 <= script.size() && !ended;) {
        std::uint8_t kind = script[at] % 4;
        std::size_t length = std::min<std::size_t>(script[at + 1], script.size() - at - 2);
        auto bytes = script.subspan(at + 2, length);
        at += 2 + length;
        if (kind == 0 || kind == 1) {
            (void)sealer->seal(bytes, records);
            expected.insert(expected.end(), bytes.begin(), bytes.end());
        } else if (kind == 2) {
            auto alert = static_cast<Alert>(length == 0 ? 0 : bytes[0]);
            (void)sealer->seal_alert(alert, records);
            ended = true;
        } else if (sealer->seal_key_update(length % 2 == 1, records)) {
            owes_key_update = owes_key_update || length % 2 == 1;
        }
    }
    Session session = make_session(st, {});
    // Deliver in two pieces at a fuzzer-chosen point: records split across reads.
    std::size_t split = script.empty() ? 0 : script[0] % (records.size() + 1);
    std::vector<std::uint8_t> plaintext;
    session.received(std::span(records).first(split));
    while (session.read(plaintext) == Session::ReadStatus::data) {
    }
    session.received(std::span(records).subspan(split));
    Session::ReadStatus status;
    while ((status = session.read(plaintext)) == Session::ReadStatus::data) {
    }
    if (plaintext != expected)
        std::abort(); // the data read is not the data sealed
    if (!ended && status != Session::ReadStatus::need_more)
        std::abort(); // valid records ended the session
    if (owes_key_update && session.pending_output().empty())
        std::abort(); // a requested KeyUpdate went unanswered
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const DirectionState st = fixed_state(suites[data[0] % suites.size()]);
    std::span<const std::uint8_t> rest(data + 2, size - 2);
    if (data[1] % 2 == 0)
        raw(st, rest);
    else
        sealed(st, rest);
    return 0;
}
