// append_json_string() and xml_escape() from common/escape.h.
#include <gtest/gtest.h>

#include <map>

#include "common/escape.h"
#include "qa/unit/test_support.h"

namespace {

using namespace std::string_literals;

std::string json(std::string_view s)
{
    std::string out;
    xo::append_json_string(out, s);
    return out;
}

// Wraps a JSON string in an object so the strict test parser can decode it.
std::string decode_json(const std::string& quoted)
{
    std::map<std::string, std::string> members;
    std::string why;
    EXPECT_TRUE(xo::test::parse_json_object("{\"v\":" + quoted + "}", members, why)) << why << " in " << quoted;
    return members["v"];
}

TEST(AppendJsonString, PlainText)
{
    EXPECT_EQ(json("GET"), "\"GET\"");
    EXPECT_EQ(json(""), "\"\"");
    EXPECT_EQ(json("/bucket/key?x=1&y=2"), "\"/bucket/key?x=1&y=2\"");
}

TEST(AppendJsonString, AppendsToExistingText)
{
    std::string out = "{\"a\":";
    xo::append_json_string(out, "b");
    EXPECT_EQ(out, "{\"a\":\"b\"");
}

TEST(AppendJsonString, QuotesAndBackslashes)
{
    EXPECT_EQ(json("a\"b"), R"("a\"b")");
    EXPECT_EQ(json("a\\b"), R"("a\\b")");
    EXPECT_EQ(json("\"\\\""), R"("\"\\\"")");
}

TEST(AppendJsonString, ControlBytes)
{
    EXPECT_EQ(json("\n\r\t"), R"("\n\r\t")");
    EXPECT_EQ(json("\x01\x1f"), R"("\u0001\u001f")");
    EXPECT_EQ(json("a\0b"s), R"("a\u0000b")");
    EXPECT_EQ(json("\x7f"), R"("\u007f")");
}

TEST(AppendJsonString, NonUtf8BytesEscapedOneByOne)
{
    EXPECT_EQ(json("\xff\xfe"), R"("\u00ff\u00fe")");
    EXPECT_EQ(json("\xc3\xa9"), R"("\u00c3\u00a9")"); // even valid UTF-8: the target may not be text
}

TEST(AppendJsonString, EveryByteGivesValidAsciiJsonThatRoundTrips)
{
    std::string all;
    for (int c = 0; c < 256; ++c)
        all += static_cast<char>(c);
    std::string quoted = json(all);
    for (unsigned char c : quoted)
        EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "raw byte " << int(c) << " in output";
    EXPECT_EQ(decode_json(quoted), all);
}

TEST(XmlEscape, Specials)
{
    EXPECT_EQ(xo::xml_escape("a&b"), "a&amp;b");
    EXPECT_EQ(xo::xml_escape("<tag>"), "&lt;tag&gt;");
    EXPECT_EQ(xo::xml_escape("\"q\" 'a'"), "&quot;q&quot; &apos;a&apos;");
    EXPECT_EQ(xo::xml_escape("&amp;"), "&amp;amp;");
    EXPECT_EQ(xo::xml_escape("]]>"), "]]&gt;");
    EXPECT_EQ(xo::xml_escape("/bucket/key"), "/bucket/key");
    EXPECT_EQ(xo::xml_escape(""), "");
}

TEST(XmlEscape, ControlBytes)
{
    // Tab, LF and CR are XML characters; the others are not even as references.
    EXPECT_EQ(xo::xml_escape("a\tb\nc\rd"), "a\tb\nc\rd");
    std::string out = xo::xml_escape("a\x01" "b\0c\x1f"s);
    EXPECT_EQ(out.find('\x01'), std::string::npos);
    EXPECT_EQ(out.find('\0'), std::string::npos);
    EXPECT_EQ(out.find('\x1f'), std::string::npos);
    std::map<std::string, std::string> leaves;
    std::string why;
    EXPECT_TRUE(xo::test::check_xml("<R>" + out + "</R>", leaves, why)) << why << ": " << out;
}

TEST(XmlEscape, ValidUtf8PassesThrough)
{
    EXPECT_EQ(xo::xml_escape("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
}

TEST(XmlEscape, AllAsciiGivesWellFormedText)
{
    std::string ascii;
    for (int c = 0; c < 0x80; ++c)
        ascii += static_cast<char>(c);
    std::map<std::string, std::string> leaves;
    std::string why;
    ASSERT_TRUE(xo::test::check_xml("<R>" + xo::xml_escape(ascii) + "</R>", leaves, why)) << why;
    // Everything printable survives the round trip exactly.
    std::string printable = ascii.substr(0x20);
    EXPECT_EQ(leaves["R"].substr(leaves["R"].size() - printable.size()), printable);
}

// The error document declares UTF-8; strict parsers (expat) reject it if
// bytes that are not well-formed UTF-8 pass through raw.
TEST(XmlEscape, NonUtf8BytesStillGiveWellFormedUtf8)
{
    for (std::string bad : {"\xff"s, "a\xfe" "b"s, "\xc3"s, "\xc0\xaf"s, "\xed\xa0\x80"s, "/k\x80\x81"s}) {
        std::string out = xo::xml_escape(bad);
        std::map<std::string, std::string> leaves;
        std::string why;
        EXPECT_TRUE(xo::test::check_xml("<R>" + out + "</R>", leaves, why))
            << why << " for input of " << bad.size() << " bytes";
    }
}

} // namespace
