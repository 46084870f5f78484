// Unit tests of the TLS record layer (common/tls/), without a network.
//
// OpenSSL is the oracle in both directions: an in-process OpenSSL client
// over memory BIOs talks to our Handshake and then to our Session, for all
// six suites (TLS 1.3's three, TLS 1.2's ECDHE three with an ECDSA
// certificate made at run time). Every byte the client reads was sealed by
// us and every byte we read was sealed by OpenSSL, so a wrong nonce, AAD,
// key, sequence number or record format shows up as a failed read on one
// side. RFC 8448 §3 vectors pin the key schedule and record format to the
// specification independently of OpenSSL.
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "common/tls/direction_state.h"
#include "common/tls/handshake.h"
#include "common/tls/key_schedule.h"
#include "common/tls/record_layer.h"
#include "common/tls/session.h"
#include "qa/unit/test_pki.h"

namespace xo::tls {
namespace {

using Bytes = std::vector<std::uint8_t>;
using test::Pki;

Bytes hex(std::string_view h)
{
    Bytes out;
    int hi = -1;
    for (char c : h) {
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    return out;
}

Bytes pattern(std::size_t n, std::uint8_t seed)
{
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i)
        b[i] = static_cast<std::uint8_t>(i * 131 + seed + (i >> 8));
    return b;
}

// ---- a certificate made at run time (test_pki.h) ----

const auto* const pki_env = ::testing::AddGlobalTestEnvironment(new Pki);

// ---- the six suites ----

struct SuiteCase {
    const char* name; ///< OpenSSL's name: a TLS 1.3 ciphersuite or a TLS 1.2 cipher
    Version version;
    std::uint16_t id;
};
const SuiteCase all_suites[] = {
    {"TLS_AES_128_GCM_SHA256", Version::tls13, 0x1301},
    {"TLS_AES_256_GCM_SHA384", Version::tls13, 0x1302},
    {"TLS_CHACHA20_POLY1305_SHA256", Version::tls13, 0x1303},
    {"ECDHE-ECDSA-AES128-GCM-SHA256", Version::tls12, 0xc02b},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", Version::tls12, 0xc02c},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", Version::tls12, 0xcca9},
};

std::shared_ptr<ServerContext> server_context(bool rsa = false)
{
    auto ctx = rsa ? ServerContext::load(Pki::rsa_chain, Pki::rsa_key) : ServerContext::load(Pki::chain, Pki::key);
    EXPECT_TRUE(ctx.ok()) << (ctx ? "" : ctx.error().message);
    return ctx ? *ctx : nullptr;
}

// ---- an OpenSSL client over memory BIOs ----

struct Client {
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    BIO* in = nullptr;  ///< what the client reads
    BIO* out = nullptr; ///< what the client wrote
    int tickets = 0;    ///< sessions the client got (NewSessionTicket / TLS 1.2 session)

    explicit Client(const SuiteCase& suite, SSL_SESSION* resume = nullptr)
    {
        ctx = SSL_CTX_new(TLS_client_method());
        if (suite.version == Version::tls13) {
            SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
            SSL_CTX_set_ciphersuites(ctx, suite.name);
        } else {
            SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
            SSL_CTX_set_cipher_list(ctx, suite.name);
        }
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, [](SSL* s, SSL_SESSION*) {
            ++static_cast<Client*>(SSL_get_app_data(s))->tickets;
            return 0;
        });
        ssl = SSL_new(ctx);
        SSL_set_app_data(ssl, this);
        in = BIO_new(BIO_s_mem());
        out = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl, in, out);
        SSL_set_connect_state(ssl);
        if (resume != nullptr)
            SSL_set_session(ssl, resume);
    }
    ~Client()
    {
        // An SSL freed without a shutdown makes its session non-resumable.
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Bytes drain()
    {
        Bytes b(BIO_ctrl_pending(out));
        if (!b.empty())
            b.resize(static_cast<std::size_t>(BIO_read(out, b.data(), static_cast<int>(b.size()))));
        return b;
    }
    void give(const Bytes& b)
    {
        if (!b.empty())
            BIO_write(in, b.data(), static_cast<int>(b.size()));
    }
    /** write() - SSL_write all of @b; return the records. */
    Bytes write(const Bytes& b)
    {
        if (!b.empty()) {
            int n = SSL_write(ssl, b.data(), static_cast<int>(b.size()));
            EXPECT_EQ(n, static_cast<int>(b.size()));
        }
        return drain();
    }
    /** read() - up to @n bytes from what was given; stops when OpenSSL wants more. */
    Bytes read(std::size_t n, int* error = nullptr)
    {
        Bytes got;
        std::vector<std::uint8_t> buf(16384);
        while (got.size() < n) {
            int r = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
            if (r <= 0) {
                if (error != nullptr)
                    *error = SSL_get_error(ssl, r);
                break;
            }
            got.insert(got.end(), buf.begin(), buf.begin() + r);
        }
        return got;
    }
    /** process() - let the client read what was given (tickets) without data. */
    int process()
    {
        std::uint8_t b;
        int r = SSL_read(ssl, &b, 1);
        return r <= 0 ? SSL_get_error(ssl, r) : SSL_ERROR_NONE;
    }
};

struct HandshakeResult {
    std::optional<Session> session;
    std::uint64_t tx_seq_at_switch = 0;
    std::uint64_t rx_seq_at_switch = 0;
};

/** connect() - run the handshake between @client and a Handshake on @server; @early: a request sent with Finished. */
HandshakeResult connect(Client& client, const std::shared_ptr<ServerContext>& server, const Bytes& early = {})
{
    HandshakeResult result;
    Handshake hs(server);
    bool client_done = false, early_sent = early.empty();
    for (int round = 0; round < 10 && !(client_done && hs.done()); ++round) {
        int r = SSL_do_handshake(client.ssl);
        if (r != 1) {
            int e = SSL_get_error(client.ssl, r);
            EXPECT_EQ(e, SSL_ERROR_WANT_READ) << "client handshake failed";
            if (e != SSL_ERROR_WANT_READ)
                return result;
        }
        client_done = r == 1;
        if (client_done && !early_sent) {
            const int n = static_cast<int>(early.size());
            EXPECT_EQ(SSL_write(client.ssl, early.data(), n), n);
            early_sent = true;
        }
        Bytes to_server = client.drain();
        Bytes to_client;
        if (!to_server.empty()) {
            auto fed = hs.feed(to_server, to_client);
            EXPECT_TRUE(fed.ok()) << (fed ? "" : fed.error().message);
            if (!fed)
                return result;
        }
        client.give(to_client);
    }
    EXPECT_TRUE(client_done && hs.done());
    auto session = hs.finish();
    EXPECT_TRUE(session.ok()) << (session ? "" : session.error().message);
    if (session) {
        result.tx_seq_at_switch = session->tx_state().seq;
        result.session.emplace(std::move(*session));
    }
    return result;
}

/** server_reads() - open what the client sent until @n bytes of plaintext (or no progress). */
Bytes server_reads(Session& s, const Bytes& ciphertext, std::size_t n, Session::ReadStatus* last = nullptr)
{
    s.received(ciphertext);
    Bytes got;
    Session::ReadStatus st = Session::ReadStatus::data;
    while (got.size() < n && st == Session::ReadStatus::data)
        st = s.read(got);
    if (last != nullptr)
        *last = st;
    return got;
}

class Tls : public ::testing::TestWithParam<SuiteCase> {
protected:
    const SuiteCase& suite() const { return GetParam(); }
    bool tls13() const { return suite().version == Version::tls13; }
};

// ---- handshake and switch point ----

TEST_P(Tls, SwitchPointCountedForTicketCounts)
{
    for (int tickets : {0, 2, 5}) {
        SCOPED_TRACE("tickets " + std::to_string(tickets));
        auto server = server_context();
        SSL_CTX_set_num_tickets(server->native(), static_cast<std::size_t>(tickets));
        Client client(suite());
        auto hr = connect(client, server);
        ASSERT_TRUE(hr.session);
        Session& s = *hr.session;
        EXPECT_EQ(s.tx_state().suite, suite().id);
        // TLS 1.3: the NewSessionTickets were the records under the new key;
        // TLS 1.2: the Finished (its ticket precedes ChangeCipherSpec).
        EXPECT_EQ(hr.tx_seq_at_switch, tls13() ? static_cast<std::uint64_t>(tickets) : 1u);
        Bytes out;
        Bytes down = pattern(1000, 1);
        ASSERT_TRUE(s.write(down, out).ok());
        client.give(out);
        EXPECT_EQ(client.read(down.size()), down);
        Bytes up = pattern(777, 2);
        EXPECT_EQ(server_reads(s, client.write(up), up.size()), up);
        if (tls13()) {
            EXPECT_EQ(client.tickets, tickets);
        }
    }
}

TEST_P(Tls, ResumedSessionSwitchesAndCarriesDataBothWays)
{
    auto server = server_context();
    SSL_SESSION* saved = nullptr;
    {
        Client first(suite());
        auto hr = connect(first, server);
        ASSERT_TRUE(hr.session);
        Bytes out;
        ASSERT_TRUE(hr.session->write(pattern(10, 3), out).ok());
        first.give(out);
        EXPECT_EQ(first.read(10).size(), 10u); // also reads the tickets
        saved = SSL_get1_session(first.ssl);
        ASSERT_NE(saved, nullptr);
        ASSERT_EQ(SSL_SESSION_is_resumable(saved), 1);
    }
    Client second(suite(), saved);
    auto hr = connect(second, server);
    SSL_SESSION_free(saved);
    ASSERT_TRUE(hr.session);
    EXPECT_EQ(SSL_session_reused(second.ssl), 1);
    // OpenSSL sends one ticket after a resumption by default; counted anyway.
    EXPECT_EQ(hr.tx_seq_at_switch, 1u);
    Session& s = *hr.session;
    Bytes out;
    Bytes down = pattern(20000, 4);
    ASSERT_TRUE(s.write(down, out).ok());
    second.give(out);
    EXPECT_EQ(second.read(down.size()), down);
    Bytes up = pattern(3000, 5);
    EXPECT_EQ(server_reads(s, second.write(up), up.size()), up);
}

TEST_P(Tls, RequestArrivingWithFinishedIsKeptAsCiphertext)
{
    auto server = server_context();
    Client client(suite());
    Bytes request = pattern(71, 6);
    auto hr = connect(client, server, request);
    ASSERT_TRUE(hr.session);
    Bytes got;
    EXPECT_EQ(hr.session->read(got), Session::ReadStatus::data);
    EXPECT_EQ(got, request);
}

TEST_P(Tls, ApplicationDataOfEverySizeBothWays)
{
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    Session& s = *hr.session;
    for (std::size_t n : {0u, 1u, 16384u, 16385u, 100000u}) {
        SCOPED_TRACE("bytes " + std::to_string(n));
        Bytes down = pattern(n, 7), out;
        ASSERT_TRUE(s.write(down, out).ok());
        // Records of at most 2^14 bytes: ceil(n / 16384) of them.
        std::size_t records = (n + 16383) / 16384;
        EXPECT_EQ(out.size(), n + records * (5 + 16 + (tls13() ? 1 : 0) + (suite().id >> 8 == 0xc0 ? 8 : 0)));
        client.give(out);
        EXPECT_EQ(client.read(n), down);
        Bytes up = pattern(n, 8);
        EXPECT_EQ(server_reads(s, client.write(up), n), up);
    }
}

TEST_P(Tls, MaxFragmentLength512IsHonoured)
{
    auto server = server_context();
    Client client(suite());
    ASSERT_EQ(SSL_set_tlsext_max_fragment_length(client.ssl, TLSEXT_max_fragment_length_512), 1);
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    Session& s = *hr.session;
    EXPECT_EQ(s.max_plaintext(), 512u);
    Bytes down = pattern(5000, 9), out;
    ASSERT_TRUE(s.write(down, out).ok());
    std::size_t records = 0;
    for (std::size_t at = 0; at + 5 <= out.size(); ++records) {
        std::size_t len = std::size_t{out[at + 3]} << 8 | out[at + 4];
        EXPECT_LE(len, 512u + 16 + 8 + 1);
        at += 5 + len;
    }
    EXPECT_EQ(records, 10u);
    client.give(out);
    EXPECT_EQ(client.read(down.size()), down);
    Bytes up = pattern(5000, 10);
    EXPECT_EQ(server_reads(s, client.write(up), up.size()), up);
}

TEST_P(Tls, ClientPaddingIsStripped)
{
    if (!tls13())
        GTEST_SKIP() << "SKIPPED: record padding exists only in TLS 1.3";
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    ASSERT_EQ(SSL_set_block_padding(client.ssl, 512), 1);
    for (std::size_t n : {1u, 100u, 511u, 5000u}) {
        Bytes up = pattern(n, 11);
        Bytes records = client.write(up);
        // One record whose inner plaintext (data and type) is padded to 512-byte blocks.
        EXPECT_EQ(records.size(), 5 + (n + 1 + 511) / 512 * 512 + 16);
        EXPECT_EQ(server_reads(*hr.session, records, n), up);
    }
}

TEST_P(Tls, ClientKeyUpdateIsFollowedAndAnswered)
{
    if (!tls13())
        GTEST_SKIP() << "SKIPPED: KeyUpdate exists only in TLS 1.3";
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    Session& s = *hr.session;
    SecretBytes secret_before = s.tx_state().secret;
    ASSERT_EQ(SSL_key_update(client.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
    Bytes up = pattern(300, 12);
    EXPECT_EQ(server_reads(s, client.write(up), up.size()), up);
    EXPECT_FALSE(s.pending_output().empty()); // our KeyUpdate, owed before our next data
    Bytes down = pattern(400, 13), out;
    ASSERT_TRUE(s.write(down, out).ok());
    EXPECT_TRUE(s.pending_output().empty());
    EXPECT_NE(s.tx_state().secret, secret_before);
    EXPECT_EQ(s.tx_state().seq, 1u); // KeyUpdate under the old key, then one record under the new
    client.give(out);
    EXPECT_EQ(client.read(down.size()), down);
    // Again, now both sides on their second keys.
    up = pattern(500, 14);
    EXPECT_EQ(server_reads(s, client.write(up), up.size()), up);
}

TEST_P(Tls, OurKeyUpdateIsReadByTheClient)
{
    if (!tls13())
        GTEST_SKIP() << "SKIPPED: KeyUpdate exists only in TLS 1.3";
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    Session& s = *hr.session;
    // A responder-side Sealer (the handoff path) rolls and asks the client to roll too.
    auto sealer = Sealer::make(s.tx_state());
    ASSERT_TRUE(sealer.ok());
    Bytes out;
    ASSERT_TRUE(sealer->seal_key_update(true, out).ok());
    EXPECT_EQ(sealer->state().seq, 0u);
    Bytes down = pattern(1234, 15);
    ASSERT_TRUE(sealer->seal(down, out).ok());
    client.give(out);
    EXPECT_EQ(client.read(down.size()), down);
    EXPECT_FALSE(s.resume_tx(sealer->state()).ok()); // a key rolled elsewhere is not ours: refused
    // The client answered with its own KeyUpdate: our Opener follows it.
    Bytes up = pattern(99, 16);
    EXPECT_EQ(server_reads(s, client.write(up), up.size()), up);
}

TEST_P(Tls, CloseNotifyBothWays)
{
    auto server = server_context();
    {
        Client client(suite());
        auto hr = connect(client, server);
        ASSERT_TRUE(hr.session);
        Bytes out;
        ASSERT_TRUE(hr.session->close(out).ok());
        client.give(out);
        int error = 0;
        EXPECT_TRUE(client.read(1, &error).empty());
        EXPECT_EQ(error, SSL_ERROR_ZERO_RETURN);
    }
    {
        Client client(suite());
        auto hr = connect(client, server);
        ASSERT_TRUE(hr.session);
        Bytes up = pattern(50, 17);
        Bytes records = client.write(up);
        ASSERT_EQ(SSL_shutdown(client.ssl), 0);
        Bytes close = client.drain();
        records.insert(records.end(), close.begin(), close.end());
        Session::ReadStatus st;
        EXPECT_EQ(server_reads(*hr.session, records, 51, &st), up);
        EXPECT_EQ(st, Session::ReadStatus::closed);
        Bytes got;
        EXPECT_EQ(hr.session->read(got), Session::ReadStatus::closed);
    }
}

TEST_P(Tls, LateChangeCipherSpecIsUnexpectedMessage)
{
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    Session& s = *hr.session;
    Bytes got;
    s.received(Bytes{20, 3, 3, 0, 1, 1});
    EXPECT_EQ(s.read(got), Session::ReadStatus::failed);
    ASSERT_FALSE(s.pending_output().empty());
    client.give(s.pending_output());
    int error = 0;
    client.read(1, &error);
    EXPECT_EQ(error, SSL_ERROR_SSL);
    EXPECT_NE(std::string(ERR_error_string(ERR_peek_last_error(), nullptr)).find("unexpected message"),
              std::string::npos);
    ERR_clear_error();
    Bytes out;
    EXPECT_FALSE(s.write(pattern(1, 1), out).ok()); // a failed session sends nothing more
}

TEST_P(Tls, RenegotiationIsRefused)
{
    if (tls13())
        GTEST_SKIP() << "SKIPPED: renegotiation exists only in TLS 1.2";
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    ASSERT_EQ(SSL_renegotiate(client.ssl), 1);
    EXPECT_LE(SSL_do_handshake(client.ssl), 0);
    Bytes hello = client.drain();
    ASSERT_FALSE(hello.empty());
    Bytes got;
    hr.session->received(hello);
    EXPECT_EQ(hr.session->read(got), Session::ReadStatus::failed);
    client.give(hr.session->pending_output());
    EXPECT_LE(SSL_do_handshake(client.ssl), 0);
    EXPECT_EQ(SSL_get_error(client.ssl, -1), SSL_ERROR_SSL); // the renegotiation failed
    ERR_clear_error();
}

// ---- handoff ----

TEST_P(Tls, HandoffMovesTheSendStateAndItComesBack)
{
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    Session& s = *hr.session;
    Bytes out;
    ASSERT_TRUE(s.write(pattern(100, 18), out).ok()); // the response head, from the gateway
    ASSERT_TRUE(s.prepare_handoff(out).ok());
    client.give(out);
    EXPECT_EQ(client.read(100), pattern(100, 18));

    // OFFER: the state on the wire, a responder's Sealer continues the stream.
    SecretBytes wire = encode(s.tx_state());
    auto moved = decode_direction_state(wire);
    ASSERT_TRUE(moved.ok()) << moved.error().message;
    auto responder = Sealer::make(std::move(*moved));
    ASSERT_TRUE(responder.ok());
    Bytes body = pattern(70000, 19), from_responder;
    ASSERT_TRUE(responder->seal(body, from_responder).ok());
    client.give(from_responder);
    EXPECT_EQ(client.read(body.size()), body);

    // The client's next request arrived meanwhile; the gateway reads it later.
    Bytes next = pattern(200, 20);
    Bytes queued = client.write(next);

    // Refusals: another suite, another key, a seq behind ours.
    auto returned = decode_direction_state(encode(responder->state()));
    ASSERT_TRUE(returned.ok());
    DirectionState other_suite = *returned;
    other_suite.suite = tls13() ? (suite().id == 0x1301 ? 0x1302 : 0x1301) : (suite().id == 0xc02b ? 0xc02f : 0xc02b);
    EXPECT_FALSE(s.resume_tx(other_suite).ok());
    DirectionState other_key = *returned;
    other_key.key[0] ^= 1;
    EXPECT_FALSE(s.resume_tx(other_key).ok());
    DirectionState behind = *returned;
    behind.seq = s.tx_state().seq - 1;
    EXPECT_FALSE(s.resume_tx(behind).ok());

    ASSERT_TRUE(s.resume_tx(std::move(*returned)).ok());
    EXPECT_EQ(s.tx_state().seq, responder->state().seq);
    EXPECT_EQ(server_reads(s, queued, next.size()), next);
    Bytes tail = pattern(300, 21);
    out.clear();
    ASSERT_TRUE(s.write(tail, out).ok());
    client.give(out);
    EXPECT_EQ(client.read(tail.size()), tail);
}

TEST_P(Tls, NearKeyLimitRollsTls13AndRefusesTls12)
{
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    Session& s = *hr.session;
    Bytes out;
    ASSERT_TRUE(s.write(pattern(10, 22), out).ok());
    client.give(out);
    EXPECT_EQ(client.read(10).size(), 10u);
    out.clear();
    s.set_roll_threshold(s.tx_state().seq); // the limit is now
    if (!tls13()) {
        EXPECT_FALSE(s.prepare_handoff(out).ok());
        return;
    }
    SecretBytes before = s.tx_state().secret;
    ASSERT_TRUE(s.prepare_handoff(out).ok());
    EXPECT_FALSE(out.empty()); // the KeyUpdate
    EXPECT_EQ(s.tx_state().seq, 0u);
    EXPECT_NE(s.tx_state().secret, before);
    auto responder = Sealer::make(s.tx_state());
    ASSERT_TRUE(responder.ok());
    Bytes body = pattern(40000, 23);
    ASSERT_TRUE(responder->seal(body, out).ok());
    client.give(out);
    EXPECT_EQ(client.read(body.size()), body);
}

TEST_P(Tls, TamperedRecordFailsTheSessionWithBadRecordMac)
{
    auto server = server_context();
    Client client(suite());
    auto hr = connect(client, server);
    ASSERT_TRUE(hr.session);
    Bytes records = client.write(pattern(500, 25));
    records[records.size() / 2] ^= 1;
    Session::ReadStatus st;
    EXPECT_TRUE(server_reads(*hr.session, records, 500, &st).empty());
    EXPECT_EQ(st, Session::ReadStatus::failed);
    client.give(hr.session->pending_output());
    int error = 0;
    client.read(1, &error);
    EXPECT_EQ(error, SSL_ERROR_SSL);
    EXPECT_NE(std::string(ERR_error_string(ERR_peek_last_error(), nullptr)).find("bad record mac"), std::string::npos);
    ERR_clear_error();
}

// The policy: what is not TLS 1.2/1.3 with an AEAD suite fails the handshake, with an alert for the client.
TEST(TlsPolicy, NonAeadSuitesAndOldVersionsAreRefused)
{
    auto server = server_context();
    struct Offer {
        const char* what;
        int max_version;
        const char* ciphers;
    };
    for (const Offer& o : {Offer{"TLS 1.2 CBC only", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA256"},
                           Offer{"TLS 1.1", TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0"}}) {
        SCOPED_TRACE(o.what);
        SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(ctx, 0);
        SSL_CTX_set_max_proto_version(ctx, o.max_version);
        ASSERT_EQ(SSL_CTX_set_cipher_list(ctx, o.ciphers), 1);
        SSL* ssl = SSL_new(ctx);
        BIO* in = BIO_new(BIO_s_mem());
        BIO* out = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl, in, out);
        SSL_set_connect_state(ssl);
        EXPECT_LE(SSL_do_handshake(ssl), 0);
        Bytes hello(BIO_ctrl_pending(out));
        ASSERT_FALSE(hello.empty());
        BIO_read(out, hello.data(), static_cast<int>(hello.size()));
        Handshake hs(server);
        Bytes reply;
        EXPECT_FALSE(hs.feed(hello, reply).ok());
        EXPECT_FALSE(hs.done());
        ASSERT_FALSE(reply.empty());
        EXPECT_EQ(reply[0], 21); // an alert record
        EXPECT_FALSE(hs.finish().ok());
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        ERR_clear_error();
    }
}

TEST(TlsPolicy, LoadRefusesMissingOrMismatchedFiles)
{
    EXPECT_FALSE(ServerContext::load(Pki::dir + "/absent.pem", Pki::key).ok());
    EXPECT_FALSE(ServerContext::load(Pki::chain, Pki::dir + "/absent.pem").ok());
    auto mismatched = ServerContext::load(Pki::chain, Pki::rsa_key);
    ASSERT_FALSE(mismatched.ok());
    EXPECT_NE(mismatched.error().message.find("does not match"), std::string::npos) << mismatched.error().message;
}

// TLS 1.2 with an RSA certificate: the ECDHE-RSA variants of the same AEADs.
TEST(TlsRsa, EcdheRsaSuitesCarryDataBothWays)
{
    const SuiteCase rsa_suites[] = {{"ECDHE-RSA-AES128-GCM-SHA256", Version::tls12, 0xc02f},
                                    {"ECDHE-RSA-AES256-GCM-SHA384", Version::tls12, 0xc030},
                                    {"ECDHE-RSA-CHACHA20-POLY1305", Version::tls12, 0xcca8}};
    auto server = server_context(true);
    for (const SuiteCase& c : rsa_suites) {
        SCOPED_TRACE(c.name);
        Client client(c);
        auto hr = connect(client, server);
        ASSERT_TRUE(hr.session);
        EXPECT_EQ(hr.session->tx_state().suite, c.id);
        EXPECT_EQ(hr.tx_seq_at_switch, 1u);
        Bytes down = pattern(20000, 26), out;
        ASSERT_TRUE(hr.session->write(down, out).ok());
        client.give(out);
        EXPECT_EQ(client.read(down.size()), down);
        Bytes up = pattern(20000, 27);
        EXPECT_EQ(server_reads(*hr.session, client.write(up), up.size()), up);
    }
}

INSTANTIATE_TEST_SUITE_P(AllSuites, Tls, ::testing::ValuesIn(all_suites),
                         [](const auto& info) {
                             std::string n = info.param.name;
                             for (char& c : n)
                                 if (c == '-')
                                     c = '_';
                             return n;
                         });

// ---- record level: both ends ours, with a random state per suite ----

DirectionState random_state(const SuiteCase& c)
{
    auto suite = find_suite(c.version, c.id);
    DirectionState st;
    st.version = c.version;
    st.suite = c.id;
    st.key.resize(suite->key_length);
    st.iv.resize(suite->iv_length);
    RAND_bytes(st.key.data(), static_cast<int>(st.key.size()));
    RAND_bytes(st.iv.data(), static_cast<int>(st.iv.size()));
    if (c.version == Version::tls13) {
        st.secret.resize(static_cast<std::size_t>(EVP_MD_get_size(suite->hash())));
        RAND_bytes(st.secret.data(), static_cast<int>(st.secret.size()));
    }
    st.seq = 5;
    return st;
}

class Records : public Tls {};

TEST_P(Records, TamperedRecordFailsWithoutAdvancingTheSequence)
{
    auto st = random_state(suite());
    auto sealer = Sealer::make(st);
    auto opener = Opener::make(st);
    ASSERT_TRUE(sealer.ok() && opener.ok());
    Bytes rec;
    ASSERT_TRUE(sealer->seal(pattern(100, 24), rec).ok());
    for (std::size_t i : {std::size_t{5}, rec.size() / 2, rec.size() - 1, std::size_t{4}}) {
        Bytes bad = rec;
        bad[i] ^= 0x40;
        if (i == 4) { // the length: then the record is a different size
            bad = rec;
            bad[4] = static_cast<std::uint8_t>(bad[4] - 1);
            bad.pop_back();
        }
        Bytes plain;
        Opened o = opener->open(bad, plain);
        EXPECT_EQ(o.kind, Opened::Kind::failed);
        EXPECT_EQ(o.alert, Alert::bad_record_mac);
        EXPECT_TRUE(plain.empty()); // nothing unauthenticated reaches the caller
        EXPECT_EQ(opener->state().seq, 5u);
    }
    Bytes plain;
    Opened o = opener->open(rec, plain);
    EXPECT_EQ(o.kind, Opened::Kind::data);
    EXPECT_EQ(o.consumed, rec.size());
    EXPECT_EQ(plain, pattern(100, 24));
    EXPECT_EQ(opener->state().seq, 6u);
}

TEST_P(Records, OversizedRecordIsRecordOverflow)
{
    auto opener = Opener::make(random_state(suite()));
    ASSERT_TRUE(opener.ok());
    std::size_t len = max_record_ciphertext + 1;
    Bytes header{23, 3, 3, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)};
    Bytes plain;
    Opened o = opener->open(header, plain); // refused before the body arrives
    EXPECT_EQ(o.kind, Opened::Kind::failed);
    EXPECT_EQ(o.alert, Alert::record_overflow);
    Bytes partial{23, 3, 3, 0x10};
    EXPECT_EQ(opener->open(partial, plain).kind, Opened::Kind::need_more);
}

TEST_P(Records, AlertsAreReported)
{
    auto st = random_state(suite());
    auto sealer = Sealer::make(st);
    auto opener = Opener::make(st);
    ASSERT_TRUE(sealer.ok() && opener.ok());
    Bytes rec;
    ASSERT_TRUE(sealer->seal_alert(Alert::close_notify, rec).ok());
    ASSERT_TRUE(sealer->seal_alert(Alert::handshake_failure, rec).ok());
    Bytes plain;
    Opened a = opener->open(rec, plain);
    EXPECT_EQ(a.kind, Opened::Kind::close_notify);
    Opened b = opener->open(std::span(rec).subspan(a.consumed), plain);
    EXPECT_EQ(b.kind, Opened::Kind::alert);
    EXPECT_EQ(b.alert, Alert::handshake_failure);
    EXPECT_TRUE(plain.empty());
}

TEST_P(Records, KeyLimits)
{
    auto st = random_state(suite());
    bool gcm = suite().id != 0x1303 && suite().id != 0xcca9;
    st.seq = std::uint64_t{1} << 23;
    auto sealer = Sealer::make(st);
    ASSERT_TRUE(sealer.ok());
    EXPECT_EQ(sealer->near_key_limit(), gcm);
    st.seq = std::uint64_t{1} << 24;
    auto at_limit = Sealer::make(st);
    Bytes out;
    EXPECT_EQ(at_limit->seal(pattern(1, 1), out).ok(), !gcm);
    st.seq = ~std::uint64_t{0};
    auto wrapped = Sealer::make(st);
    EXPECT_FALSE(wrapped->seal(pattern(1, 1), out).ok()); // never wraps
}

TEST_P(Records, StateEncodingIsCheckedFieldByField)
{
    auto st = random_state(suite());
    st.seq = 0x0102030405060708;
    st.max_plaintext = 1024;
    SecretBytes wire = encode(st);
    auto back = decode_direction_state(wire);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->version, st.version);
    EXPECT_EQ(back->suite, st.suite);
    EXPECT_EQ(back->key, st.key);
    EXPECT_EQ(back->iv, st.iv);
    EXPECT_EQ(back->secret, st.secret);
    EXPECT_EQ(back->seq, st.seq);
    EXPECT_EQ(back->max_plaintext, 1024);
    for (std::size_t n = 0; n < wire.size(); ++n)
        EXPECT_FALSE(decode_direction_state(std::span(wire).first(n)).ok()) << "truncated to " << n;
    SecretBytes longer = wire;
    longer.push_back(0);
    EXPECT_FALSE(decode_direction_state(longer).ok());
    SecretBytes bad = wire;
    bad[0] = 2; // format
    EXPECT_FALSE(decode_direction_state(bad).ok());
    bad = wire;
    bad[2] = 0x05; // version 0x0305
    EXPECT_FALSE(decode_direction_state(bad).ok());
    bad = wire;
    bad[4] = 0x99; // suite
    EXPECT_FALSE(decode_direction_state(bad).ok());
    bad = wire;
    bad[5] = static_cast<std::uint8_t>(bad[5] + 1); // key length
    EXPECT_FALSE(decode_direction_state(bad).ok());
    bad = wire;
    bad[wire.size() - 2] = 0; // cap 0..255
    EXPECT_FALSE(decode_direction_state(bad).ok());
}

INSTANTIATE_TEST_SUITE_P(AllSuites, Records, ::testing::ValuesIn(all_suites),
                         [](const auto& info) {
                             std::string n = info.param.name;
                             for (char& c : n)
                                 if (c == '-')
                                     c = '_';
                             return n;
                         });

// ---- RFC 8448 §3, Simple 1-RTT Handshake (TLS_AES_128_GCM_SHA256) ----

const Bytes rfc_client_ap = hex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5");
const Bytes rfc_server_ap = hex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
const Bytes rfc_payload = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                              "202122232425262728292a2b2c2d2e2f3031");

DirectionState rfc_state(const Bytes& secret, std::uint64_t seq)
{
    auto suite = find_suite(Version::tls13, 0x1301);
    auto keys = tls13_traffic_keys(*suite, secret);
    DirectionState st;
    st.suite = 0x1301;
    st.key = std::move(keys->key);
    st.iv = std::move(keys->iv);
    st.secret.assign(secret.begin(), secret.end());
    st.seq = seq;
    return st;
}

TEST(TlsRfc8448, ApplicationTrafficKeys)
{
    auto suite = find_suite(Version::tls13, 0x1301);
    ASSERT_TRUE(suite);
    auto server = tls13_traffic_keys(*suite, rfc_server_ap);
    ASSERT_TRUE(server.ok());
    EXPECT_EQ(Bytes(server->key.begin(), server->key.end()), hex("9f02283b6c9c07efc26bb9f2ac92e356"));
    EXPECT_EQ(Bytes(server->iv.begin(), server->iv.end()), hex("cf782b88dd83549aadf1e984"));
    auto client = tls13_traffic_keys(*suite, rfc_client_ap);
    ASSERT_TRUE(client.ok());
    EXPECT_EQ(Bytes(client->key.begin(), client->key.end()), hex("17422dda596ed5d9acd890e3c63f5051"));
    EXPECT_EQ(Bytes(client->iv.begin(), client->iv.end()), hex("5b78923dee08579033e523d9"));
}

TEST(TlsRfc8448, ApplicationDataRecords)
{
    // The server's record follows its NewSessionTicket (seq 1); the client's is its first (seq 0).
    const Bytes server_record = hex("17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf9"
                                    "7d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d");
    const Bytes client_record = hex("1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8"
                                    "a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4");
    auto sealer = Sealer::make(rfc_state(rfc_server_ap, 1));
    ASSERT_TRUE(sealer.ok());
    Bytes out;
    ASSERT_TRUE(sealer->seal(rfc_payload, out).ok());
    EXPECT_EQ(out, server_record);
    auto opener = Opener::make(rfc_state(rfc_client_ap, 0));
    ASSERT_TRUE(opener.ok());
    Bytes plain;
    EXPECT_EQ(opener->open(client_record, plain).kind, Opened::Kind::data);
    EXPECT_EQ(plain, rfc_payload);
}

} // namespace
} // namespace xo::tls
