// format_access_record() and AccessLog from rgw_xo/access_log.h.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

#include "rgw_xo/access_log.h"
#include "qa/unit/test_support.h"

namespace {

using namespace std::string_literals;
using xo::gw::AccessRecord;
using xo::gw::format_access_record;

AccessRecord sample()
{
    AccessRecord r;
    r.client = "127.0.0.1:40000";
    r.request_id = "17f-0-1";
    r.method = "GET";
    r.target = "/bucket/key";
    r.status = 200;
    r.bytes_in = 12;
    r.bytes_out = 3145728;
    r.duration = std::chrono::microseconds(1234);
    r.outcome = "relayed";
    return r;
}

std::map<std::string, std::string> parse_line(const std::string& line)
{
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    // One line: the only newline is the terminator.
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    std::map<std::string, std::string> fields;
    std::string why;
    EXPECT_TRUE(xo::test::parse_json_object(std::string_view(line).substr(0, line.size() - 1), fields, why))
        << why << "\n" << line;
    return fields;
}

TEST(FormatAccessRecord, ValidJsonWithEveryField)
{
    std::string line = format_access_record(sample());
    auto f = parse_line(line);
    EXPECT_EQ(f.size(), 10u) << line;
    EXPECT_EQ(f["client"], "127.0.0.1:40000");
    EXPECT_EQ(f["request_id"], "17f-0-1");
    EXPECT_EQ(f["method"], "GET");
    EXPECT_EQ(f["target"], "/bucket/key");
    EXPECT_EQ(f["status"], "200");
    EXPECT_EQ(f["bytes_in"], "12");
    EXPECT_EQ(f["bytes_sent"], "3145728");
    EXPECT_EQ(f["duration_us"], "1234");
    EXPECT_EQ(f["outcome"], "relayed");
    ASSERT_EQ(f["time"].size(), std::string("2026-11-22T02:50:00.123456Z").size()) << f["time"];
    EXPECT_EQ(f["time"].back(), 'Z');
    EXPECT_EQ(f["time"][10], 'T');
}

TEST(FormatAccessRecord, ExactLayoutAfterTheTimestamp)
{
    std::string line = format_access_record(sample());
    const std::string tail = R"(,"client":"127.0.0.1:40000","request_id":"17f-0-1","method":"GET",)"
                             R"("target":"/bucket/key","status":200,"bytes_in":12,"bytes_sent":3145728,)"
                             R"("duration_us":1234,"outcome":"relayed"})"
                             "\n";
    ASSERT_TRUE(line.starts_with("{\"time\":\"")) << line;
    EXPECT_TRUE(line.ends_with(tail)) << line;
}

TEST(FormatAccessRecord, WhyAGetWasNotOffloadedEndsTheLineWhenThereIsAReason)
{
    AccessRecord r = sample();
    r.outcome = "fallback";
    r.offload_reason = "refused_busy";
    EXPECT_TRUE(format_access_record(r).ends_with(R"("outcome":"fallback","offload_reason":"refused_busy"})"
                                                  "\n"));
    EXPECT_EQ(format_access_record(sample()).find("offload_reason"), std::string::npos);
}

TEST(FormatAccessRecord, HostileTargetStaysOneValidLine)
{
    const std::string target = "/b/\"k\"\n{\"status\":999}\r\n\xff\xfe\x01\\u0000\t"s + '\0' + "end";
    AccessRecord r = sample();
    r.target = target;
    r.method = "G\"ET\n";
    std::string line = format_access_record(r);
    auto f = parse_line(line);
    EXPECT_EQ(f["target"], target);
    EXPECT_EQ(f["method"], "G\"ET\n");
    EXPECT_EQ(f["status"], "200");
    for (unsigned char c : line.substr(0, line.size() - 1))
        EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "raw byte " << int(c);
}

TEST(FormatAccessRecord, NoResponseAndEmptyFields)
{
    AccessRecord r;
    std::string line = format_access_record(r);
    auto f = parse_line(line);
    EXPECT_EQ(f["status"], "0");
    EXPECT_EQ(f["bytes_in"], "0");
    EXPECT_EQ(f["bytes_sent"], "0");
    EXPECT_EQ(f["client"], "");
    EXPECT_EQ(f["outcome"], "");
}

TEST(FormatAccessRecord, LargeCounters)
{
    AccessRecord r = sample();
    r.bytes_in = UINT64_MAX;
    r.bytes_out = 5ull << 40;
    auto f = parse_line(format_access_record(r));
    EXPECT_EQ(f["bytes_in"], "18446744073709551615");
    EXPECT_EQ(f["bytes_sent"], std::to_string(5ull << 40));
}

TEST(AccessLog, AppendsOneLinePerWrite)
{
    char path[] = "/tmp/xo_unit_access_XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    {
        xo::gw::AccessLog log(path);
        ASSERT_TRUE(log.ok()) << log.error();
        AccessRecord r = sample();
        log.write(r);
        r.status = 404;
        r.target = "/x\ny";
        log.write(r);
    }
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);)
        lines.push_back(l + "\n");
    ::unlink(path);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(parse_line(lines[0])["status"], "200");
    EXPECT_EQ(parse_line(lines[1])["status"], "404");
    EXPECT_EQ(parse_line(lines[1])["target"], "/x\ny");
}

TEST(AccessLog, UnopenablePathReportsError)
{
    xo::gw::AccessLog log("/nonexistent-dir-xo/access.log");
    EXPECT_FALSE(log.ok());
    EXPECT_NE(log.error().find("/nonexistent-dir-xo/access.log"), std::string::npos) << log.error();
    log.write(sample()); // harmless
}

} // namespace
