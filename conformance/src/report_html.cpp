// report_html.cpp — the HTML report (report.hpp): one self-contained file (no
// network at load time) holding the report's JSON document, each dialogue's
// text, and the page assets (conformance/web/: the ladder renderer shared
// with the mock server's web view, and the report page). A browser draws
// the summary, the filters and every failing dialogue as a ladder.
#include "smtpkit/conformance/web_assets.hpp"

#include "report_format.hpp"
#include "report_json.hpp"

namespace smtpkit::conformance {

namespace web {
extern const char ladder_js[];
extern const char ladder_css[];
extern const char report_js[];
extern const char report_css[];

std::string_view ladder_script() noexcept { return ladder_js; }
std::string_view ladder_style() noexcept { return ladder_css; }
std::string_view report_script() noexcept { return report_js; }
std::string_view report_style() noexcept { return report_css; }
}  // namespace web

namespace {

// Text inside <script> ends at "</": written as "<\/" (the same string to
// JSON and JavaScript), it cannot close the element early.
std::string script_safe(std::string s) {
  for (std::size_t at = 0; (at = s.find("</", at)) != std::string::npos; at += 3) s.insert(at + 1, "\\");
  return s;
}

}  // namespace

void write_html(std::ostream& out, const report& r, const report_options& o) {
  auto doc = detail::json_document(r, o);
  // The ladders need each dialogue's text; a check report names files only.
  if (r.kind == report_kind::dialogues)
    for (std::size_t i = 0; i < r.dialogues.size(); ++i)
      if (!r.dialogues[i].transcript.empty())
        doc["dialogues"][i]["transcript"] = detail::safe(r.dialogues[i].transcript);
  std::string title = r.tool + (r.target.name.empty() ? std::string() : " " + r.target.name);
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "script-src 'unsafe-inline'\">\n"
      << "<title>" << xml_escape(title) << "</title>\n<style>\n"
      << web::ladder_style() << web::report_style() << "</style>\n</head>\n<body>\n"
      << "<div id=\"app\"><noscript>This report draws itself with JavaScript; the same data: --format "
         "json.</noscript></div>\n"
      << "<script type=\"application/json\" id=\"smtpkit-report\">" << script_safe(doc.dump()) << "</script>\n"
      << "<script>\n"
      << web::ladder_script() << "\n"
      << web::report_script() << "\n</script>\n</body>\n</html>\n";
}

}  // namespace smtpkit::conformance
