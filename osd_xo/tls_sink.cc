#include "osd_xo/tls_sink.h"

namespace xo::rsp {

namespace {

// Sealed and written a few records at a time: the ciphertext buffer stays
// small whatever piece size the streamer writes.
constexpr std::size_t seal_batch = 4 * tls::max_record_plaintext;

} // namespace

boost::asio::awaitable<Result<void>> TlsSink::write(std::span<const std::uint8_t> bytes)
{
    while (!bytes.empty()) {
        auto batch = bytes.first(std::min(bytes.size(), seal_batch));
        records_.clear();
        if (auto sealed = sealer_.seal(batch, records_); !sealed)
            co_return sealed.error();
        auto writing = inner_.write(records_);
        if (auto written = co_await std::move(writing); !written)
            co_return written;
        if (sent_)
            sent_->add(batch.size());
        bytes = bytes.subspan(batch.size());
    }
    co_return Result<void>{};
}

} // namespace xo::rsp
