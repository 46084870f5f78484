#include "common/escape.h"

#include <cstdio>

namespace xo {
namespace {

void append_u00(std::string& out, unsigned char c)
{
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", c);
    out += buf;
}

/*
 * utf8_sequence_length() - length of the well-formed UTF-8 sequence that
 * starts @s (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF),
 * or 0 if it does not start with one.
 */
std::size_t utf8_sequence_length(std::string_view s)
{
    auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char lead = byte(0);
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xbf; // allowed range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
        n = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        n = 3;
        if (lead == 0xe0)
            lo = 0xa0;
        if (lead == 0xed)
            hi = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        n = 4;
        if (lead == 0xf0)
            lo = 0x90;
        if (lead == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (s.size() < n || byte(1) < lo || byte(1) > hi)
        return 0;
    for (std::size_t i = 2; i < n; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xbf)
            return 0;
    }
    return n;
}

} // namespace

void append_json_string(std::string& out, std::string_view s)
{
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            // Bytes >= 0x80 are escaped one by one: the target may not be UTF-8.
            if (c < 0x20 || c >= 0x7f)
                append_u00(out, c);
            else
                out += static_cast<char>(c);
        }
    }
    out += '"';
}

std::string xml_escape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            // The document says UTF-8: pass valid sequences, replace the rest.
            std::size_t n = utf8_sequence_length(s.substr(i));
            if (n == 0) {
                out += "&#xFFFD;";
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            // XML 1.0 forbids most control characters even as references.
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                out += "&#xFFFD;";
            else
                out += static_cast<char>(c);
        }
        ++i;
    }
    return out;
}

} // namespace xo
