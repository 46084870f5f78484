// xo-read-object: an S3 object's bytes through the responder's own read path.
//
// Theory of operation: the integration oracle for xo-responder's reading
// code, without a ticket or a handoff. The Locator (rgw_xo/locator.h) finds
// the head object; a ServePlan is made for the range as the gateway would
// make it (and checked by the same decode_plan()); then exactly what the
// responder runs on an OFFER and after GO: prepare_object() (one head read,
// vet) and stream_object() (head bytes, then pipelined RADOS reads), with
// stdout as the sink. Without --etag the plan carries the head's own ETag
// and size, so only --etag can make the ETag check fail.
//
// Usage: xo-read-object --conf C --bucket B --key K [--version V]
//                       [--first F] [--length L] [--etag E]
// Exit status: 0 the range was written to stdout; 3 the responder would
// refuse (the reason on stderr); 1 a cluster or read error; 2 usage.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>

#include <iostream>
#include <optional>

#include "osd_xo/cluster.h"
#include "osd_xo/fd_sink.h"
#include "rgw_xo/locator.h"
#include "common/handoff/serve_plan.h"
#include "osd_xo/servable.h"
#include "osd_xo/vet.h"

namespace {

namespace asio = boost::asio;
namespace po = boost::program_options;
using namespace xo;

struct Options {
    std::string conf, bucket, key, version, etag;
    std::uint64_t first = 0;
    std::optional<std::uint64_t> length;
    bool have_etag = false;
    rsp::ReadSettings reads;
};

/** parse() - the options, or nullopt with @status set (0 after --help, 2 for bad usage). */
std::optional<Options> parse(int argc, char** argv, int& status)
{
    Options o;
    std::uint64_t length = 0;
    po::options_description d("xo-read-object: write an S3 object's byte range to stdout the way xo-responder reads it");
    d.add_options()("help,h", "this text")("conf,c", po::value(&o.conf)->required(), "ceph.conf of the cluster")(
        "bucket", po::value(&o.bucket)->required(), "bucket")("key", po::value(&o.key)->required(), "object key")(
        "version", po::value(&o.version), "version id")("first", po::value(&o.first), "first byte (default 0)")(
        "length", po::value(&length), "bytes (default: to the end)")(
        "etag", po::value(&o.etag), "ETag radosgw reported, without quotes (default: the head's own)")(
        "read-bytes", po::value(&o.reads.read_bytes)->default_value(o.reads.read_bytes), "bytes per RADOS read")(
        "pipeline-depth", po::value(&o.reads.pipeline_depth)->default_value(o.reads.pipeline_depth),
        "RADOS reads in flight ahead of the writes");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, d), vm);
        if (vm.count("help")) {
            std::cout << d;
            status = 0;
            return std::nullopt;
        }
        po::notify(vm);
        o.have_etag = vm.count("etag") > 0;
        if (vm.count("length"))
            o.length = length;
    } catch (const po::error& e) {
        std::cerr << "xo-read-object: " << e.what() << "\n" << d;
        status = 2;
        return std::nullopt;
    }
    return o;
}

/** describe() - the head's ETag and the object's size, as radosgw would report them. */
void describe(librados::Rados& rados, const rgw::HeadObject& head, handoff::ServePlan& plan, bool have_etag)
{
    librados::IoCtx io;
    if (rados.ioctx_create(head.pool.c_str(), io) < 0)
        return;
    io.set_namespace(head.nspace);
    io.locator_set_key(head.locator);
    std::map<std::string, librados::bufferlist> xattrs;
    if (io.getxattrs(head.oid, xattrs) < 0)
        return;
    if (!have_etag && xattrs.count(rsp::kEtagXattr))
        plan.etag = rsp::xattr_text(xattrs[rsp::kEtagXattr].to_str());
    // Left 0 when undecodable: the vet then says why the object is refused.
    if (auto raw = xattrs.find(rgw::kManifestXattr); raw != xattrs.end()) {
        std::string bytes = raw->second.to_str();
        auto m = rgw::decode_manifest({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
        if (m)
            plan.object_size = m->obj_size;
    }
}

/** run() - 0, 1 or 3 as the usage says. */
int run(const Options& o)
{
    rgw::LocatorConfig config;
    config.cluster.conf_path = o.conf;
    auto locator = rgw::Locator::create(config);
    if (!locator)
        return std::cerr << "xo-read-object: " << locator.error().message << "\n", 1;
    auto where = (*locator)->locate(rgw::ObjectName{o.bucket, o.key, o.version});
    if (!where)
        return std::cerr << "xo-read-object: " << where.error().message << "\n", 1;
    auto rados = rsp::connect_cluster(rsp::ClusterSettings{o.conf});
    if (!rados)
        return std::cerr << "xo-read-object: " << rados.error().message << "\n", 1;

    handoff::ServePlan plan{where->pool, "", where->head.oid, where->head.locator, o.etag, 0, o.first, 0, {}};
    describe(**rados, rsp::head_of(plan), plan, o.have_etag);
    plan.length = o.length ? *o.length : (plan.object_size > o.first ? plan.object_size - o.first : 0);
    // No size from the manifest: claim just the range, so the plan is well
    // formed and the vet, not the plan check, says what is wrong.
    if (plan.object_size == 0)
        plan.object_size = o.first + plan.length;
    // The gateway's encoding and the responder's checks, as on the wire.
    auto checked = handoff::decode_plan(handoff::encode_plan(plan));
    if (!checked)
        return std::cerr << "xo-read-object: bad range: " << checked.error().message << "\n", 2;

    asio::io_context ioc;
    int status = 1;
    rsp::FdSink sink(1);
    auto work = [&]() -> asio::awaitable<void> {
        auto preparing = rsp::prepare_object(ioc.get_executor(), **rados, *checked, o.reads);
        rsp::Prepared prepared = co_await std::move(preparing);
        if (auto* no = std::get_if<rsp::Refusal>(&prepared)) {
            std::cerr << "refused (" << (no->reason == handoff::RefuseReason::unsupported ? "unsupported" : "error")
                      << "): " << no->text << "\n";
            status = 3;
            co_return;
        }
        auto object = std::get<std::shared_ptr<rsp::ServableObject>>(std::move(prepared));
        auto streaming = rsp::stream_object(ioc.get_executor(), object, sink, o.reads);
        Result<void> sent = co_await std::move(streaming);
        if (!sent) {
            std::cerr << "xo-read-object: after " << sink.written() << " bytes: " << sent.error().message << "\n";
            co_return;
        }
        status = 0;
    };
    asio::co_spawn(ioc, work, asio::detached);
    ioc.run();
    return status;
}

} // namespace

int main(int argc, char** argv)
{
    int status = 0;
    auto options = parse(argc, argv, status);
    if (!options)
        return status;
    return run(*options);
}
