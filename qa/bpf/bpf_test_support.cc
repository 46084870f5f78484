// Test-run wrapper and small conversions for the data plane tests.
#include "qa/bpf/bpf_test_support.h"

#include <bpf/bpf.h>
#include <unistd.h>

namespace xo::test {

TestRun test_run(int prog_fd, const Bytes& frame)
{
    TestRun run;
    run.out.assign(frame.size() + 256, 0);
    bpf_test_run_opts opts {};
    opts.sz = sizeof(opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<std::uint32_t>(frame.size());
    opts.data_out = run.out.data();
    opts.data_size_out = static_cast<std::uint32_t>(run.out.size());
    opts.repeat = 1;
    run.err = bpf_prog_test_run_opts(prog_fd, &opts);
    run.retval = opts.retval;
    run.out.resize(opts.data_size_out);
    return run;
}

std::string instance_name(const std::string& what)
{
    return "xot-" + std::to_string(getpid()) + "-" + what;
}

xo::Endpoint endpoint(const std::string& addr, std::uint16_t port)
{
    return xo::Endpoint(boost::asio::ip::make_address(addr), port);
}

xo_flow_key key_of(const FrameSpec& spec)
{
    auto key = xo::bpf::flow_key(endpoint(spec.src, spec.sport), endpoint(spec.dst, spec.dport));
    EXPECT_TRUE(key.ok()) << key.error().message;
    return key.ok() ? *key : xo_flow_key{};
}

Bytes payload_of(const Bytes& frame)
{
    FrameView view(frame);
    std::size_t start = view.l4_offset() + (frame.at(view.l4_offset() + 12) >> 4) * 4u;
    return Bytes(frame.begin() + static_cast<std::ptrdiff_t>(start), frame.end());
}

xo::Mac to_mac(const MacAddr& mac)
{
    xo::Mac out;
    std::copy(mac.begin(), mac.end(), out.begin());
    return out;
}

} // namespace xo::test
