// The relay buffer lent to Beast's parser and serializer for one step of a
// framed (chunked) body: pump_framed() (body_pump.h) decodes into it, then
// hands the decoded bytes to the serializer, which frames them again. A
// header of its own, free of the coroutine machinery, so that the HTTP fuzz
// target runs these same steps synchronously.
#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <cstddef>
#include <span>

namespace xo::gw {

/**
 * lend_scratch() - let the parser decode body bytes into @scratch.
 * take_scratch() - after the read: point @body at the bytes decoded into
 * @scratch, for the serializer; @done: the parser has the whole body.
 * Return: how many bytes that is.
 *
 * When no byte was decoded @body points nowhere: the serializer would send
 * an empty buffer as a chunk of its own, "0\r\n\r\n", which is the
 * last-chunk — the body would end upstream there, and what follows would be
 * read as the next request (an empty chunked body did exactly that: its
 * last-chunk went out twice).
 */
inline void lend_scratch(boost::beast::http::buffer_body::value_type& body, std::span<char> scratch)
{
    body.data = scratch.data();
    body.size = scratch.size();
}

inline std::size_t take_scratch(boost::beast::http::buffer_body::value_type& body, std::span<char> scratch,
                                bool done)
{
    body.size = scratch.size() - body.size;
    body.data = body.size > 0 ? scratch.data() : nullptr;
    body.more = !done;
    return body.size;
}

} // namespace xo::gw
