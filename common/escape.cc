#include "escape.h"

#include <cstdio>

namespace xo {
namespace {

void append_u00(std::string& out, unsigned char c)
{
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", c);
    out += buf;
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
    for (unsigned char c : s) {
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
    }
    return out;
}

} // namespace xo
