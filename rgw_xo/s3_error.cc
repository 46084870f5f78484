#include "rgw_xo/s3_error.h"

#include "common/escape.h"
#include "common/timefmt.h"

namespace xo::gw {
namespace http = boost::beast::http;

bool is_http_syntax_error(const boost::system::error_code& ec)
{
    return ec.category() == http::make_error_code(http::error::bad_version).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message && ec != http::error::need_more;
}

http::response<http::string_body>
make_error_response(const S3Error& err, std::string_view resource, std::string_view request_id)
{
    http::response<http::string_body> res{err.status, 11};
    res.set(http::field::content_type, "application/xml");
    res.set(http::field::date, http_date());
    res.set("x-amz-request-id", request_id);
    res.keep_alive(false);

    std::string& body = res.body();
    body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
    body += xml_escape(err.code);
    body += "</Code><Message>";
    body += xml_escape(err.message);
    body += "</Message>";
    if (!resource.empty()) {
        body += "<Resource>";
        body += xml_escape(resource);
        body += "</Resource>";
    }
    body += "<RequestId>";
    body += xml_escape(request_id);
    body += "</RequestId></Error>\n";
    res.prepare_payload();
    return res;
}

} // namespace xo::gw
