// http_mailpit.cpp — Mailpit's REST API v1, the part tests use, with
// Mailpit's own field names and types (its swagger.json is the contract):
//   GET /api/v1/info, GET /api/v1/webui
//   GET, PUT (read status), DELETE /api/v1/messages
//   GET /api/v1/message/{ID|latest}, .../headers, .../raw, .../part/{PartID}
//   GET, DELETE /api/v1/search?query=
//   GET, PUT /api/v1/chaos (triggers played as a smtpkit script)
//   GET /view/{ID|latest}.html, /view/{ID|latest}.txt
// and the WebSocket /api/events (view.cpp): "new", "stats", "update",
// "delete", "truncate".
//
// Limits: no tags (Tags are always empty; the tag endpoints answer 404), no
// send, release, thumbnails, HTML/link/SpamAssassin checks; time zones of
// searches are ignored (UTC). Message bodies are parsed by GMime when asked.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "search.hpp"
#include "smtpkit/mock/script/script.hpp"
#include "view_impl.hpp"

namespace smtpkit::mock::view {
namespace {

using njson = nlohmann::json;  // sorted keys: Mailpit returns headers alphabetically

json address_json(const address& a) { return {{"Name", a.name}, {"Address", a.addr}}; }

json addresses_json(const std::vector<address>& list) {
  json out = json::array();
  for (const auto& a : list) out.push_back(address_json(a));
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Mailpit shows as Bcc the envelope recipients the header fields do not name.
std::vector<address> bcc_of(const mail& m, const parsed_message& p) {
  std::vector<address> out = p.bcc;
  if (!m.envelope.is_object()) return out;
  auto named = [&](const std::string& a) {
    for (const auto* list : {&p.to, &p.cc, &p.bcc})
      for (const auto& x : *list)
        if (lower(x.addr) == lower(a)) return true;
    return false;
  };
  if (auto r = m.envelope.find("rcpt_to"); r != m.envelope.end() && r->is_array())
    for (const auto& e : *r) {
      const std::string a = e.value("address", "");
      if (!a.empty() && !named(a)) out.push_back({"", a});
    }
  return out;
}

std::string username(const mail& m) {
  if (m.envelope.is_object())
    if (auto a = m.envelope.find("auth"); a != m.envelope.end() && a->is_string()) return a->get<std::string>();
  return {};
}

json attachment_json(const attachment& a) {
  return {{"PartID", a.part_id},
          {"FileName", a.file_name},
          {"ContentType", a.content_type},
          {"ContentID", a.content_id},
          {"Size", a.size},
          {"Checksums", {{"MD5", a.md5}, {"SHA1", a.sha1}, {"SHA256", a.sha256}}}};
}

http_response ok() { return http_response::text(200, "ok"); }
http_response bad(const std::string& why) { return http_response::text(400, why); }
// Message bodies from other people: never scripts running in this origin.
void sandbox(http_response& r) {
  r.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src * data:; style-src * 'unsafe-inline'";
}

std::uint64_t memory_in_use() {
  std::ifstream f("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// The IDs of a JSON body ({"IDs": [...]}); an empty list when none.
bool ids_of(const std::string& body, std::vector<std::string>& ids, njson& doc) {
  if (body.empty()) {
    doc = njson::object();
    return true;
  }
  doc = njson::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  if (auto it = doc.find("IDs"); it != doc.end() && !it->is_null()) {
    if (!it->is_array()) return false;
    for (const auto& v : *it) {
      if (!v.is_string()) return false;
      ids.push_back(v.get<std::string>());
    }
  }
  return true;
}

}  // namespace

json view::state::list_item(const mail& m) {
  auto s = box.summary_of(m);
  static const parsed_message none;
  const parsed_message& p = s ? s->fields : none;
  return {{"ID", m.id},
          {"MessageID", p.message_id},
          {"Read", m.read},
          {"From", p.from.empty() ? json(nullptr) : address_json(p.from.front())},
          {"To", addresses_json(p.to)},
          {"Cc", addresses_json(p.cc)},
          {"Bcc", addresses_json(bcc_of(m, p))},
          {"ReplyTo", addresses_json(p.reply_to)},
          {"Subject", p.subject},
          {"Created", mailpit_time(m.received_us)},
          {"Username", username(m)},
          {"Tags", json::array()},
          {"Size", m.size},
          {"Attachments", s ? s->attachment_count : 0},
          {"Snippet", s ? s->snippet : std::string()}};
}

json view::state::message_json(const mail& m) {
  auto raw = box.raw(m);
  const parsed_message p = raw ? parse_message(*raw) : parsed_message{};
  std::string return_path = p.return_path;
  if (m.envelope.is_object() && m.envelope.contains("mail_from")) return_path = m.envelope.value("mail_from", "");
  json inl = json::array(), att = json::array();
  for (const auto& a : p.inlines) inl.push_back(attachment_json(a));
  for (const auto& a : p.attachments) att.push_back(attachment_json(a));
  std::string list_unsubscribe;
  for (const auto& [k, v] : p.headers)
    if (lower(k) == "list-unsubscribe") list_unsubscribe = v;
  return {
      {"ID", m.id},
      {"MessageID", p.message_id},
      {"From", p.from.empty() ? json(nullptr) : address_json(p.from.front())},
      {"To", addresses_json(p.to)},
      {"Cc", addresses_json(p.cc)},
      {"Bcc", addresses_json(bcc_of(m, p))},
      {"ReplyTo", addresses_json(p.reply_to)},
      {"ReturnPath", return_path},
      {"Subject", p.subject},
      {"ListUnsubscribe", {{"Header", list_unsubscribe}, {"Links", json::array()}, {"Errors", ""}, {"HeaderPost", ""}}},
      {"Date", mailpit_time(p.date ? *p.date * 1000000 : m.received_us)},
      {"Tags", json::array()},
      {"Username", username(m)},
      {"Text", p.text},
      {"HTML", p.html},
      {"Size", m.size},
      {"Inline", inl},
      {"Attachments", att}};
}

json view::state::messages_page(const std::vector<const mail*>& list, std::size_t start, std::size_t limit) {
  std::size_t unread = 0;
  for (const mail* m : list)
    if (!m->read) ++unread;
  json msgs = json::array();
  for (std::size_t i = start; i < list.size() && msgs.size() < limit; ++i) msgs.push_back(list_item(*list[i]));
  return {{"total", box.count()},          {"unread", box.unread()},    {"count", msgs.size()},
          {"messages_count", list.size()}, {"messages_unread", unread}, {"start", start},
          {"tags", json::array()},         {"messages", msgs}};
}

json view::state::chaos_json() const {
  auto t = [](const chaos_trigger& c) { return json{{"ErrorCode", c.code}, {"Probability", c.probability}}; };
  return {{"Authentication", t(chaos_auth)}, {"Recipient", t(chaos_rcpt)}, {"Sender", t(chaos_sender)}};
}

// Mailpit's Chaos triggers as rules of a smtpkit script: each answers its
// command with the error code at the trigger's probability.
std::string view::state::chaos_script_text() const {
  std::string text = "# Mailpit's Chaos triggers (PUT /api/v1/chaos), played by smtpkit serve\n@seed " +
                     std::to_string(now_unix_us()) + "\n";
  auto rule = [&](const chaos_trigger& c, const char* pattern, const char* name) {
    if (c.probability <= 0) return;
    char chance[32];
    std::snprintf(chance, sizeof chance, "%.2f", c.probability / 100.0);
    text += std::string("@rule chance=") + chance + " " + pattern + "\nS: " + std::to_string(c.code) +
            " Chaos: " + name + " trigger\n@end\n";
  };
  rule(chaos_auth, "AUTH {*}", "Authentication");
  rule(chaos_sender, "MAIL FROM:{*}", "Sender");
  rule(chaos_rcpt, "RCPT TO:{*}", "Recipient");
  return text;
}

json view::state::info_json() {
  std::uint64_t bytes = 0;
  for (const mail* m : box.newest_first()) bytes += m->size;
  return {{"Version", "smtpkit " SMTPKIT_VERSION},
          {"LatestVersion", ""},
          {"Database", box.maildir()},
          {"DatabaseSize", bytes},
          {"Messages", box.count()},
          {"Unread", box.unread()},
          {"Tags", json::object()},
          {"RuntimeStats",
           {{"Uptime", (now_unix_us() - started_us) / 1000000},
            {"Memory", memory_in_use()},
            {"MessagesDeleted", box.deleted},
            {"SMTPAccepted", box.accepted},
            {"SMTPAcceptedSize", box.accepted_size},
            {"SMTPRejected", 0},
            {"SMTPIgnored", 0}}}};
}

http_response view::state::mailpit(const http_request& r) {
  const std::string& path = r.path;
  const std::string& method = r.method;
  const bool get = method == "GET" || method == "HEAD";

  if (path == "/api/v1/info" && get) return json_response(info_json());
  if (path == "/api/v1/webui" && get)
    return json_response({{"Label", "smtpkit serve"},
                          {"MessageRelay",
                           {{"Enabled", false},
                            {"SMTPServer", ""},
                            {"ReturnPath", ""},
                            {"AllowedRecipients", ""},
                            {"BlockedRecipients", ""},
                            {"OverrideFrom", ""},
                            {"PreserveMessageIDs", false}}},
                          {"SpamAssassin", false},
                          {"ChaosEnabled", true},
                          {"DuplicatesIgnored", false},
                          {"HideDeleteAllButton", false}});

  if (path == "/api/v1/messages") {
    if (get) return json_response(messages_page(box.newest_first(), number(r, "start", 0), number(r, "limit", 50)));
    std::vector<std::string> ids;
    njson doc;
    if (!ids_of(r.body, ids, doc)) return bad("invalid JSON body: expected {\"IDs\": [\"...\"]}");
    if (method == "DELETE") {
      const bool all = ids.empty();
      if (all)
        for (const mail* m : box.newest_first()) ids.push_back(m->id);
      std::vector<std::string> gone;
      for (const auto& id : ids)
        if (box.remove(id)) gone.push_back(id);
      deleted(gone, all);
      return ok();
    }
    if (method == "PUT") {
      const bool read = doc.value("Read", false);
      if (ids.empty()) {
        const std::string q = doc.value("Search", "");
        const auto terms = parse_search(q);
        for (const mail* m : box.newest_first()) {
          if (!q.empty()) {
            auto s = box.summary_of(*m);
            if (!matches(terms, *m, s.get())) continue;
          }
          ids.push_back(m->id);
        }
      }
      for (const auto& id : ids)
        if (const mail* m = box.find(id); m != nullptr && m->read != read) {
          box.set_read(id, read);
          updated(id, read);
        }
      return ok();
    }
    return http_response::text(405, "method not allowed");
  }

  if (path == "/api/v1/search") {
    auto q = r.query.find("query");
    if (q == r.query.end() || q->second.empty()) return bad("no search query");
    const auto terms = parse_search(q->second);
    std::vector<const mail*> found;
    for (const mail* m : box.newest_first()) {
      auto s = box.summary_of(*m);
      if (matches(terms, *m, s.get())) found.push_back(m);
    }
    if (get) return json_response(messages_page(found, number(r, "start", 0), number(r, "limit", 50)));
    if (method == "DELETE") {
      std::vector<std::string> gone;
      for (const mail* m : found) gone.push_back(m->id);
      for (const auto& id : gone) box.remove(id);
      deleted(gone, false);
      return ok();
    }
    return http_response::text(405, "method not allowed");
  }

  if (path == "/api/v1/chaos") {
    if (get) return json_response(chaos_json());
    if (method != "PUT") return http_response::text(405, "method not allowed");
    njson doc = r.body.empty() ? njson::object() : njson::parse(r.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return bad("invalid JSON body");
    chaos_trigger t[3];
    const char* names[3] = {"Authentication", "Recipient", "Sender"};
    for (int i = 0; i < 3; ++i) {
      auto it = doc.find(names[i]);
      if (it == doc.end() || it->is_null()) continue;
      if (!it->is_object()) return bad(std::string(names[i]) + ": expected an object");
      t[i].code = it->value("ErrorCode", 451);
      t[i].probability = it->value("Probability", 0);
      if (t[i].code < 400 || t[i].code > 599) return bad(std::string(names[i]) + ": ErrorCode must be 400 to 599");
      if (t[i].probability < 0 || t[i].probability > 100)
        return bad(std::string(names[i]) + ": Probability must be 0 to 100");
    }
    chaos_auth = t[0];
    chaos_rcpt = t[1];
    chaos_sender = t[2];
    if (chaos_auth.probability + chaos_rcpt.probability + chaos_sender.probability == 0) {
      scripts->set("chaos", std::nullopt);
    } else {
      auto loaded = load_script(chaos_script_text(), "mailpit-chaos", side::server);
      if (auto* e = std::get_if<script_error>(&loaded)) return http_response::text(500, e->to_string());
      scripts->set("chaos", std::move(std::get<script>(loaded)));
    }
    return json_response(chaos_json());
  }

  // /api/v1/message/{ID}[/headers|/raw|/part/{PartID}]
  if (path.rfind("/api/v1/message/", 0) == 0 && get) {
    std::string rest = path.substr(16);
    const std::size_t slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    const std::string sub = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
    const mail* m = box.find(id);
    if (m == nullptr) return not_found();
    if (sub.empty()) {
      json j = message_json(*m);
      if (!m->read) {
        box.set_read(m->id, true);
        updated(m->id, true);
      }
      return json_response(j);
    }
    if (sub == "headers") {
      auto raw = box.raw(*m);
      if (!raw) return not_found();
      njson h = njson::object();
      for (const auto& [k, v] : parse_message(*raw).headers) h[k].push_back(v);
      http_response res;
      res.body = h.dump(-1, ' ', false, njson::error_handler_t::replace);
      return res;
    }
    if (sub == "raw") {
      http_response res;
      res.content_type = "text/plain; charset=utf-8";
      res.file = m->path;
      return res;
    }
    if (sub.rfind("part/", 0) == 0) {
      auto raw = box.raw(*m);
      if (!raw) return not_found();
      auto part = message_part(*raw, sub.substr(5));
      if (!part) return not_found();
      http_response res;
      res.content_type = part->content_type;
      res.body = std::move(part->bytes);
      if (!part->file_name.empty()) {
        std::string safe;
        for (char c : part->file_name)
          safe += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? '_' : c;
        res.headers["Content-Disposition"] = "inline; filename=\"" + safe + "\"";
      }
      sandbox(res);
      return res;
    }
    return not_found();
  }

  // /view/{ID}.html, /view/{ID}.txt
  if (path.rfind("/view/", 0) == 0 && get) {
    std::string name = path.substr(6);
    const bool html = name.size() > 5 && name.compare(name.size() - 5, 5, ".html") == 0;
    const bool txt = name.size() > 4 && name.compare(name.size() - 4, 4, ".txt") == 0;
    if (!html && !txt) return not_found();
    const mail* m = box.find(name.substr(0, name.size() - (html ? 5 : 4)));
    if (m == nullptr) return not_found();
    auto raw = box.raw(*m);
    if (!raw) return not_found();
    parsed_message p = parse_message(*raw);
    if (html) {
      if (p.html.empty()) return not_found();
      std::string body = std::move(p.html);
      if (number(r, "embed", 0) == 1) body = "<base target=\"_blank\">" + body;
      http_response res = http_response::text(200, std::move(body), "text/html; charset=utf-8");
      sandbox(res);
      return res;
    }
    return http_response::text(200, std::move(p.text));
  }
  return not_found();
}

}  // namespace smtpkit::mock::view
