// Escaping for text we embed in structured output. Request targets and header
// values are attacker-controlled bytes; they must never break the framing of
// an access-log JSON line or an S3 XML error document.
#pragma once

#include <string>
#include <string_view>

namespace xo {

/** append_json_string() - append @s to @out as a quoted JSON string. Non-UTF-8
 * and control bytes become \u00XX escapes so the line stays valid JSON. */
void append_json_string(std::string& out, std::string_view s);

/** xml_escape() - @s as XML text: &, <, >, ", ' escaped; control bytes and
 * bytes that are not well-formed UTF-8 replaced by U+FFFD. */
std::string xml_escape(std::string_view s);

} // namespace xo
