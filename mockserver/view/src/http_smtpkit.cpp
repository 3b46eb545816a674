// http_smtpkit.cpp — smtpkit's own API beside Mailpit's, and the web page:
//   GET /api/smtpkit/info                      the server: endpoints, counts, scripts
//   GET /api/smtpkit/sessions?start=&limit=    recent sessions, newest first
//   GET /api/smtpkit/sessions/{id}             one session: transcript (dialogue
//                                              format), findings on their lines, times
//   GET /api/smtpkit/sessions/{id}/transcript  the transcript as a file
//   GET /api/smtpkit/messages/{ID}             a message's session and envelope
//   GET, PUT, DELETE /api/smtpkit/script       a script new sessions play first
//                                              (rules, faults: docs/dialogue-format.md)
//   WebSocket /api/smtpkit/events              the --events stream (docs/serve.md)
//   WebSocket /api/smtpkit/live                what changed, at most 4 times a second
//   GET /, /assets/*                           the page (mockserver/view/web/ and
//                                              conformance/web/ladder.*), compiled in
#include "smtpkit/conformance/web_assets.hpp"
#include "smtpkit/mock/script/script.hpp"
#include "view_impl.hpp"

namespace smtpkit::mock::view {

namespace assets {
extern const char index_html[];
extern const char app_js[];
extern const char app_css[];
}  // namespace assets

namespace {

http_response asset(std::string_view body, const char* type) {
  http_response r = http_response::text(200, std::string(body), type);
  // The page loads only its own files; a message's HTML is framed from
  // /view/, itself sandboxed.
  r.headers["Content-Security-Policy"] =
      "default-src 'self'; img-src 'self' data:; frame-src 'self'; connect-src 'self'; base-uri 'none'; form-action "
      "'none'";
  r.headers["X-Frame-Options"] = "SAMEORIGIN";
  return r;
}

}  // namespace

http_response view::state::smtpkit(const http_request& r) {
  const std::string& path = r.path;
  const bool get = r.method == "GET" || r.method == "HEAD";
  if (path == "/api/smtpkit/info" && get) {
    json smtp = json::array();
    for (const auto& b : srv.endpoints()) smtp.push_back({{"host", b.host}, {"port", b.port}, {"tls", b.implicit_tls}});
    std::size_t open = 0;
    for (const auto& s : log.list()) open += s->open ? 1 : 0;
    return json_response({{"version", SMTPKIT_VERSION},
                          {"hostname", cfg.hostname},
                          {"smtp", smtp},
                          {"http", http_url},
                          {"maildir", cfg.discard ? std::string("discard") : cfg.maildir},
                          {"messages", box.count()},
                          {"sessions", {{"kept", log.size()}, {"open", open}}},
                          {"scripts",
                           {{"command_line", scripts->fixed()},
                            {"api", !api_script.empty()},
                            {"chaos", chaos_auth.probability + chaos_rcpt.probability + chaos_sender.probability > 0}}},
                          {"check", cfg.check_client}});
  }
  if (path == "/api/smtpkit/sessions" && get) {
    const auto list = log.list();
    const std::size_t start = number(r, "start", 0), limit = number(r, "limit", 50);
    json out = json::array();
    for (std::size_t i = start; i < list.size() && out.size() < limit; ++i)
      out.push_back(session_log::summary(*list[i]));
    return json_response({{"total", list.size()}, {"start", start}, {"sessions", out}});
  }
  if (path.rfind("/api/smtpkit/sessions/", 0) == 0 && get) {
    std::string rest = path.substr(22);
    const bool transcript = rest.size() > 11 && rest.compare(rest.size() - 11, 11, "/transcript") == 0;
    if (transcript) rest.resize(rest.size() - 11);
    auto s = log.find(rest);
    if (!s) return not_found();
    if (transcript) {
      http_response res = http_response::text(200, session_log::transcript(*s));
      res.headers["Content-Disposition"] = "attachment; filename=\"" + s->id + ".smtp\"";
      return res;
    }
    return json_response(session_log::detail(*s));
  }
  if (path.rfind("/api/smtpkit/messages/", 0) == 0 && get) {
    const mail* m = box.find(path.substr(22));
    if (m == nullptr) return not_found();
    return json_response({{"ID", m->id},
                          {"session", m->session.empty() ? json(nullptr) : json(m->session)},
                          {"received", rfc3339(m->received_us)},
                          {"size", m->size},
                          {"read", m->read},
                          {"path", m->path},
                          {"envelope_path", m->envelope_path},
                          {"envelope", m->envelope}});
  }
  if (path == "/api/smtpkit/script") {
    if (get) return api_script.empty() ? not_found() : http_response::text(200, api_script);
    if (r.method == "DELETE" || (r.method == "PUT" && r.body.empty())) {
      api_script.clear();
      scripts->set("api", std::nullopt);
      if (api_script_follows) srv.follow_events(false);
      api_script_follows = false;
      return http_response::text(200, "ok");
    }
    if (r.method == "PUT" || r.method == "POST") {
      auto loaded = load_script(r.body, "api", side::server);
      if (auto* e = std::get_if<script_error>(&loaded)) return http_response::text(400, e->to_string() + "\n");
      auto& s = std::get<script>(loaded);
      // A dialogue's mismatches are findings that travel as events only.
      const bool follows = s.has_dialogue();
      if (follows != api_script_follows) srv.follow_events(follows);
      api_script_follows = follows;
      api_script = r.body;
      scripts->set("api", std::move(s));
      return http_response::text(200, "ok");
    }
    return http_response::text(405, "method not allowed");
  }
  return not_found();
}

http_response view::state::page(const http_request& r) {
  if (r.method != "GET" && r.method != "HEAD") return http_response::text(405, "method not allowed");
  if (r.path == "/" || r.path == "/index.html") return asset(assets::index_html, "text/html; charset=utf-8");
  if (r.path == "/assets/app.js") return asset(assets::app_js, "text/javascript; charset=utf-8");
  if (r.path == "/assets/app.css") return asset(assets::app_css, "text/css; charset=utf-8");
  if (r.path == "/assets/ladder.js") return asset(conformance::web::ladder_script(), "text/javascript; charset=utf-8");
  if (r.path == "/assets/ladder.css") return asset(conformance::web::ladder_style(), "text/css; charset=utf-8");
  if (r.path == "/favicon.ico") return http_response::text(204, "");
  return not_found();
}

}  // namespace smtpkit::mock::view
