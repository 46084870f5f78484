// Crash leftovers in the pinned tables (flow_table.h, rewrite_table.h): the
// gateway programs (XDP and TC, BPF_PROG_TEST_RUN) refresh an entry's
// progress only when the client's ACK moves and let a client SYN take out an
// entry whose owner is gone; the sweeps remove exactly what no live process
// owns — owners are real processes here: this one, a forked child that
// stays alive, children that have exited (reaped, or still a zombie), and a
// fake identity with this process's pid but another start time (a reused
// pid); a full table refuses with E2BIG; and 100,000 flows of churn by
// forked "daemons" that are killed with entries left behind keep the table
// bounded while it is swept concurrently, without a live entry ever being
// swept.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "qa/bpf/bpf_test_support.h"
#include "bpf/bpffs.h"
#include "bpf/gateway_data_plane.h"
#include "bpf/responder_data_plane.h"

namespace xo::test {
namespace {

using namespace std::chrono_literals;
using xo::bpf::EntryOwner;
using xo::bpf::FlowTable;

const MacAddr kResponderMac {0x02, 0, 0, 0, 0, 0x20};
const MacAddr kGatewayMac {0x02, 0, 0, 0, 0, 0x01};

xo::bpf::RedirectTarget target()
{
    return {endpoint("198.18.0.20", 10080), to_mac(kResponderMac), to_mac(kGatewayMac)};
}

/** A forked child that only waits to be killed: a live owner other than us. */
class Sleeper {
public:
    Sleeper() : pid_(fork())
    {
        if (pid_ == 0) {
            pause();
            _exit(0);
        }
    }
    ~Sleeper() { stop(); }

    /** identity() - the child's identity as the sweeps read it. */
    EntryOwner identity() const
    {
        auto id = xo::bpf::process_identity(static_cast<std::uint32_t>(pid_));
        EXPECT_TRUE(id.ok());
        return id.ok() ? *id : EntryOwner{};
    }

    /** stop() - kill -9 and reap the child. */
    void stop()
    {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

private:
    pid_t pid_;
};

/** exited_identity() - the identity of a child that has exited; reaped unless @zombie (then reaped by kill_zombie). */
EntryOwner exited_identity(bool zombie = false)
{
    int ready[2];
    EXPECT_EQ(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[1]);
        char c = 0;
        (void)read(ready[0], &c, 1); // EOF once the parent closes its end
        _exit(0);
    }
    auto id = xo::bpf::process_identity(static_cast<std::uint32_t>(pid));
    close(ready[1]); // lets the child exit
    close(ready[0]);
    siginfo_t info {};
    EXPECT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | (zombie ? WNOWAIT : 0)), 0);
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : EntryOwner{};
}

/** spec_for() - a distinct client 4-tuple for flow @i (10.x.y.z:port → 198.18.0.1:80). */
FrameSpec spec_for(std::uint32_t i)
{
    FrameSpec spec;
    spec.src = "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
               std::to_string(i & 255);
    spec.sport = static_cast<std::uint16_t>(20000 + i % 30000);
    spec.payload.clear();
    return spec;
}

class Sweep : public testing::Test {
protected:
    void SetUp() override { instance_ = instance_name("sweep"); }

    /** open() - load the gateway data plane with @capacity flows; false (skipped) if BPF is unavailable. */
    bool open(std::uint32_t capacity = 1024)
    {
        auto dp = xo::bpf::GatewayDataPlane::open({instance_, capacity});
        if (!dp) {
            skip_ = "SKIPPED: cannot load BPF programs: " + dp.error().message;
            return false;
        }
        dp_ = std::move(*dp);
        map_fd_ = bpf_obj_get((xo::bpf::pin_dir(instance_) + "/xo_gw_flows").c_str());
        EXPECT_GE(map_fd_, 0);
        auto me = xo::bpf::this_process();
        EXPECT_TRUE(me.ok());
        self_ = *me;
        return map_fd_ >= 0;
    }

    void TearDown() override
    {
        if (map_fd_ >= 0)
            close(map_fd_);
        dp_.reset();
        EXPECT_TRUE(xo::bpf::GatewayDataPlane::remove(instance_).ok());
        EXPECT_TRUE(xo::bpf::ResponderDataPlane::remove(instance_).ok());
    }

    /** entry() - @key's raw value; the test fails if there is none. */
    xo_flow_entry entry(const xo_flow_key& key) const
    {
        xo_flow_entry value {};
        EXPECT_EQ(bpf_map_lookup_elem(map_fd_, &key, &value), 0);
        return value;
    }

    bool present(const xo_flow_key& key) const
    {
        xo_flow_entry value {};
        return bpf_map_lookup_elem(map_fd_, &key, &value) == 0;
    }

    /** reused_pid() - an owner with our pid but another start time: dead. */
    EntryOwner reused_pid() const { return {self_.pid, self_.start_ticks + 1}; }

    std::string instance_;
    std::string skip_;
    std::unique_ptr<xo::bpf::GatewayDataPlane> dp_;
    int map_fd_ = -1;
    EntryOwner self_;
};

TEST_F(Sweep, ProgressMovesOnlyWithTheClientsAck)
{
    if (!open())
        GTEST_SKIP() << skip_;
    for (bool tc : {false, true}) {
        SCOPED_TRACE(tc ? "tc" : "xdp");
        int prog = tc ? dp_->tc_program_fd() : dp_->xdp_program_fd();
        std::uint32_t redirected = tc ? TC_ACT_REDIRECT : XDP_TX;
        FrameSpec spec = spec_for(tc ? 2 : 1);
        xo_flow_key key = key_of(spec);
        ASSERT_TRUE(dp_->flows().block(key).ok());
        ASSERT_TRUE(dp_->flows().redirect(key, target()).ok());
        xo_flow_entry written = entry(key);
        EXPECT_EQ(written.owner.pid, self_.pid);
        EXPECT_EQ(written.owner.start_ticks, self_.start_ticks);
        EXPECT_NE(written.progress_ns, 0u);

        spec.ack = 1000;
        ASSERT_EQ(test_run(prog, build_frame(spec)).retval, redirected);
        xo_flow_entry first = entry(key);
        EXPECT_EQ(first.ack_seq, htonl(1000));
        EXPECT_GT(first.progress_ns, written.progress_ns);

        ASSERT_EQ(test_run(prog, build_frame(spec)).retval, redirected); // same ACK: a retransmission
        EXPECT_EQ(entry(key).progress_ns, first.progress_ns);

        spec.ack = 2000;
        ASSERT_EQ(test_run(prog, build_frame(spec)).retval, redirected);
        xo_flow_entry second = entry(key);
        EXPECT_EQ(second.ack_seq, htonl(2000));
        EXPECT_GT(second.progress_ns, first.progress_ns);

        // A SYN on a live owner's entry is redirected like anything else
        // (the responder's stack answers it); it records no progress.
        spec.tcp_flags = 0x02;
        spec.ack = 0;
        ASSERT_EQ(test_run(prog, build_frame(spec)).retval, redirected);
        EXPECT_EQ(entry(key).progress_ns, second.progress_ns);
        EXPECT_TRUE(present(key));
    }
}

TEST_F(Sweep, OrphanIsTakenOutByAClientSynOnly)
{
    if (!open())
        GTEST_SKIP() << skip_;
    FlowTable dead(map_fd_, reused_pid());
    for (bool tc : {false, true}) {
        SCOPED_TRACE(tc ? "tc" : "xdp");
        int prog = tc ? dp_->tc_program_fd() : dp_->xdp_program_fd();
        FrameSpec spec = spec_for(tc ? 12 : 11);
        xo_flow_key key = key_of(spec);
        ASSERT_TRUE(dead.block(key).ok());
        ASSERT_TRUE(dead.redirect(key, target()).ok());
        auto swept = dp_->flows().sweep(10s, xo::bpf::monotonic_ns());
        ASSERT_TRUE(swept.ok()) << swept.error().message;
        EXPECT_EQ(swept->orphans, 1u);
        EXPECT_EQ(swept->entries, 1u);
        EXPECT_TRUE(entry(key).owner.flags & XO_OWNER_GONE);

        spec.ack = 5000; // the transfer still moving: redirected
        EXPECT_EQ(test_run(prog, build_frame(spec)).retval, tc ? TC_ACT_REDIRECT : XDP_TX);
        EXPECT_TRUE(present(key));

        spec.tcp_flags = 0x02; // the client connects again on the same 4-tuple
        spec.ack = 0;
        Bytes syn = build_frame(spec);
        TestRun run = test_run(prog, syn);
        EXPECT_EQ(run.retval, tc ? static_cast<std::uint32_t>(TC_ACT_UNSPEC) : static_cast<std::uint32_t>(XDP_PASS));
        EXPECT_EQ(run.out, syn);
        EXPECT_FALSE(present(key));
    }
}

TEST_F(Sweep, RemovesExactlyWhatNoLiveProcessOwns)
{
    if (!open())
        GTEST_SKIP() << skip_;
    Sleeper other;
    FlowTable mine = dp_->flows();
    FlowTable theirs(map_fd_, other.identity());
    FlowTable reused(map_fd_, reused_pid());
    FlowTable exited(map_fd_, exited_identity());
    EntryOwner unreaped = exited_identity(true); // a killed daemon nobody has reaped yet
    FlowTable zombie(map_fd_, unreaped);
    auto k = [](std::uint32_t i) { return key_of(spec_for(100 + i)); };

    ASSERT_TRUE(mine.block(k(1)).ok());                                               // live handoff
    ASSERT_TRUE(mine.block(k(2)).ok() && mine.redirect(k(2), target()).ok());         // live transfer
    ASSERT_TRUE(theirs.block(k(3)).ok());                                             // another live gateway's
    ASSERT_TRUE(theirs.block(k(4)).ok() && theirs.redirect(k(4), target()).ok());
    ASSERT_TRUE(reused.block(k(5)).ok());                                             // dead mid-handoff
    ASSERT_TRUE(zombie.block(k(8)).ok());                                             // the same, unreaped
    ASSERT_TRUE(exited.block(k(7)).ok() && exited.redirect(k(7), target()).ok());     // dead, idle
    std::this_thread::sleep_for(60ms);
    ASSERT_TRUE(exited.block(k(6)).ok() && exited.redirect(k(6), target()).ok());     // dead, still moving

    // "Now" is 10 ms after k(6)'s progress, so k(6) is 10 ms idle and k(7) at least 70 ms.
    std::uint64_t now = entry(k(6)).progress_ns + 10'000'000;
    auto swept = mine.sweep(30ms, now);
    ASSERT_TRUE(swept.ok()) << swept.error().message;
    EXPECT_EQ(swept->dead_blocks, 2u);
    EXPECT_EQ(swept->idle_orphans, 1u);
    EXPECT_EQ(swept->orphans, 1u);
    EXPECT_EQ(swept->entries, 5u);
    for (std::uint32_t i : {1, 2, 3, 4, 6})
        EXPECT_TRUE(present(k(i))) << i;
    for (std::uint32_t i : {5, 7, 8})
        EXPECT_FALSE(present(k(i))) << i;
    waitpid(static_cast<pid_t>(unreaped.pid), nullptr, 0);
    EXPECT_TRUE(entry(k(6)).owner.flags & XO_OWNER_GONE);
    EXPECT_FALSE(entry(k(4)).owner.flags & XO_OWNER_GONE);

    other.stop(); // the other gateway is killed
    swept = mine.sweep(10s, xo::bpf::monotonic_ns());
    ASSERT_TRUE(swept.ok());
    EXPECT_EQ(swept->dead_blocks, 1u); // k(3)
    EXPECT_FALSE(present(k(3)));
    EXPECT_TRUE(entry(k(4)).owner.flags & XO_OWNER_GONE);

    // An hour later every orphan is idle; our own entries are never aged.
    swept = mine.sweep(30ms, xo::bpf::monotonic_ns() + 3600'000'000'000ull);
    ASSERT_TRUE(swept.ok());
    EXPECT_EQ(swept->idle_orphans, 2u); // k(4), k(6)
    EXPECT_EQ(swept->entries, 2u);
    EXPECT_TRUE(present(k(1)));
    EXPECT_TRUE(present(k(2)));
}

TEST_F(Sweep, ResponderSweepRemovesDeadOwnersOnly)
{
    auto dp = xo::bpf::ResponderDataPlane::open({instance_, 1024});
    if (!dp)
        GTEST_SKIP() << "SKIPPED: cannot load BPF programs: " << dp.error().message;
    int fd = bpf_obj_get((xo::bpf::pin_dir(instance_) + "/xo_rsp_rewrites").c_str());
    ASSERT_GE(fd, 0);
    Sleeper other;
    auto self = xo::bpf::this_process();
    ASSERT_TRUE(self.ok());
    xo::bpf::RewriteTable theirs(fd, other.identity());
    xo::bpf::RewriteTable exited(fd, exited_identity());
    xo::bpf::RewriteTable reused(fd, {self->pid, self->start_ticks + 1});
    auto k = [](std::uint32_t i) { return key_of(spec_for(200 + i)); };
    auto vip = endpoint("198.18.0.2", 80);
    ASSERT_TRUE((*dp)->rewrites().insert(k(1), vip).ok());
    ASSERT_TRUE(theirs.insert(k(2), vip).ok());
    ASSERT_TRUE(exited.insert(k(3), vip).ok());
    ASSERT_TRUE(reused.insert(k(4), vip).ok());

    auto swept = (*dp)->rewrites().sweep();
    ASSERT_TRUE(swept.ok()) << swept.error().message;
    EXPECT_EQ(swept->dead, 2u);
    EXPECT_EQ(swept->entries, 2u);
    EXPECT_TRUE((*dp)->rewrites().counters(k(1)).ok());
    EXPECT_TRUE((*dp)->rewrites().counters(k(2)).ok());
    EXPECT_FALSE((*dp)->rewrites().counters(k(3)).ok());
    EXPECT_FALSE((*dp)->rewrites().counters(k(4)).ok());
    close(fd);
}

// Exit codes of a churning child: killed by its own SIGKILL on success.
enum ChurnFailure { kNoIdentity = 2, kBlock, kRedirect, kTestRun, kRemove, kFull, kNotFull };

/**
 * churn() - a killed daemon's life in a child process: @count flows from
 * @first, each BLOCK → REDIRECT → a client ACK through @prog → remove,
 * paced at about 50,000 flows/s, except that every tenth stays BLOCKed and
 * every tenth other stays REDIRECTed; then SIGKILL. A redirect() or remove()
 * that fails means a sweep took a live entry. With @expect_full the child
 * keeps inserting until the table refuses (kFull) instead.
 */
int churn(int map_fd, int prog, std::uint32_t first, std::uint32_t count, bool expect_full)
{
    auto me = xo::bpf::this_process();
    if (!me)
        return kNoIdentity;
    FlowTable table(map_fd, *me);
    for (std::uint32_t i = 0; i < count; ++i) {
        FrameSpec spec = spec_for(first + i);
        auto key = xo::bpf::flow_key(endpoint(spec.src, spec.sport), endpoint(spec.dst, spec.dport));
        auto blocked = table.block(*key);
        if (!blocked)
            return expect_full && blocked.error().code == E2BIG ? kFull : kBlock;
        if (expect_full || i % 10 == 1)
            continue;
        if (!table.redirect(*key, target()))
            return kRedirect;
        spec.ack = i + 1;
        if (test_run(prog, build_frame(spec)).retval != TC_ACT_REDIRECT)
            return kTestRun;
        if (i % 10 == 3)
            continue;
        if (!table.remove(*key))
            return kRemove;
        if (i % 50 == 0) {
            timespec pause {0, 1'000'000};
            nanosleep(&pause, nullptr);
        }
    }
    if (expect_full)
        return kNotFull;
    raise(SIGKILL);
    return 0;
}

/** sweep_until_exit() - wait for @pid, sweeping meanwhile; the largest table seen after a sweep. */
std::size_t sweep_until_exit(FlowTable& table, pid_t pid, int& status)
{
    std::size_t peak = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        auto swept = table.sweep(50ms, xo::bpf::monotonic_ns());
        EXPECT_TRUE(swept.ok()) << swept.error().message;
        if (swept)
            peak = std::max(peak, swept->entries);
        std::this_thread::sleep_for(5ms);
    }
    return peak;
}

TEST_F(Sweep, ChurnOf100000FlowsStaysBounded)
{
    constexpr std::uint32_t kCapacity = 8192, kIncarnations = 20, kFlowsEach = 5000;
    constexpr std::uint32_t kLeftEach = kFlowsEach / 5; // a tenth BLOCKed, a tenth REDIRECTed
    static_assert(kIncarnations * kLeftEach > 2 * kCapacity, "unswept leftovers would overflow the table");
    if (!open(kCapacity))
        GTEST_SKIP() << skip_;
    int prog = dp_->tc_program_fd();
    FlowTable mine = dp_->flows();
    Sleeper other;
    FlowTable theirs(map_fd_, other.identity());
    constexpr std::uint32_t kLive = 100; // each: ours and another live gateway's, never swept
    for (std::uint32_t i = 0; i < kLive; ++i) {
        ASSERT_TRUE(mine.block(key_of(spec_for(900000 + i))).ok());
        ASSERT_TRUE(theirs.block(key_of(spec_for(910000 + i))).ok());
    }

    std::size_t peak = 0;
    auto started = std::chrono::steady_clock::now();
    for (std::uint32_t n = 0; n < kIncarnations; ++n) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0)
            _exit(churn(map_fd_, prog, n * kFlowsEach, kFlowsEach, false));
        int status = 0;
        peak = std::max(peak, sweep_until_exit(mine, pid, status));
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << "incarnation " << n << " failed with exit code " << WEXITSTATUS(status);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("churn: %u flows in %.2f s, %u left behind by killed owners, table peak %zu of %u\n",
                kIncarnations * kFlowsEach, seconds, kIncarnations * kLeftEach, peak, kCapacity);
    RecordProperty("churn_peak_entries", std::to_string(peak));
    EXPECT_LE(peak, kCapacity / 2);

    std::this_thread::sleep_for(60ms); // the last orphans go idle
    auto swept = mine.sweep(50ms, xo::bpf::monotonic_ns());
    ASSERT_TRUE(swept.ok());
    EXPECT_EQ(swept->entries, 2 * kLive);

    // Without sweeps the same leftovers fill the table, and block() says so.
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0)
        _exit(churn(map_fd_, prog, 500000, kCapacity + 1, true));
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kFull) << "exit " << WEXITSTATUS(status);
    swept = mine.sweep(50ms, xo::bpf::monotonic_ns());
    ASSERT_TRUE(swept.ok());
    EXPECT_EQ(swept->dead_blocks, kCapacity - 2 * kLive);
    EXPECT_EQ(swept->entries, 2 * kLive);
    EXPECT_TRUE(mine.block(key_of(spec_for(920000))).ok()); // room again
}

} // namespace
} // namespace xo::test
