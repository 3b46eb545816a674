// view.cpp — the web view watching the server (view.hpp): sessions into the
// session log, messages into the mailbox, live updates coalesced on a
// timer, and the listeners' life.
#include <boost/asio/ip/address.hpp>

#include "pop3.hpp"
#include "view_impl.hpp"

namespace smtpkit::mock::view {
namespace {

constexpr std::size_t max_pending_new = 20;  // "new" events per tick; more make one "stats"

bool loopback(const std::string& host) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

struct view_tap final : session_tap {
  view_tap(std::shared_ptr<view::state> s, std::shared_ptr<session_record> r) : st(std::move(s)), rec(std::move(r)) {}
  std::shared_ptr<view::state> st;
  std::shared_ptr<session_record> rec;

  void octets(side who, std::string_view bytes) override {
    st->log.octets(*rec, who, bytes);
    st->changed();
  }
  void tls_started() override { st->log.tls(*rec); }
  void closed(side who) override { st->log.closed(*rec, who); }
  void finding(const json& event, side anchor) override { st->log.finding(*rec, event, anchor); }
  void ended(std::size_t findings) override {
    st->log.ended(*rec, findings);
    st->changed();
  }
};

}  // namespace

std::string mailpit_time(std::int64_t unix_us) {
  // Mailpit (Go) writes RFC 3339 with fractional seconds; three places do.
  std::string t = rfc3339(unix_us);
  return t.substr(0, t.size() - 4) + "Z";
}

view::state::state(server& s, std::shared_ptr<runtime_scripts> r)
    : srv(s),
      cfg(s.config()),
      scripts(std::move(r)),
      box(s.config().discard ? std::string() : s.config().maildir, s.config().max_size + (1u << 16)),
      started_us(now_unix_us()),
      mailpit_hub([this](std::size_t) { changed(); }),
      live_hub(),
      events_hub([this](std::size_t n) {
        // The full event stream is built only while someone follows it.
        const bool want = n > 0;
        if (want != following_events) {
          following_events = want;
          srv.follow_events(want);
        }
      }),
      tick(s.io()) {}

view::state::~state() = default;

std::unique_ptr<session_tap> view::state::session_opened(const std::string& id, const std::string& peer, bool tls) {
  auto rec = log.open(id, peer, tls);
  changed();
  return std::make_unique<view_tap>(shared_from_this(), std::move(rec));
}

void view::state::message_stored(const stored_message& m, const json& envelope) {
  log.message(m.session, m.id);
  if (m.path.empty()) return;  // --discard: nothing to show
  box.add(m, envelope);
  mailbox_changed = true;
  if (!mailpit_hub.empty() || !live_hub.empty()) {
    pending_new.push_back(m.id);
    if (pending_new.size() > max_pending_new) pending_new.erase(pending_new.begin());
  }
  changed();
}

void view::state::event(const json& e) {
  if (!events_hub.empty()) events_hub.broadcast(e.dump(-1, ' ', false, json::error_handler_t::replace));
  // A script's own findings (script.mismatch) reach observers only here.
  if (e.value("event", "") == "finding" && e.contains("script"))
    if (auto rec = log.find(e.value("session", ""))) log.finding(*rec, e, side::client);
}

void view::state::stopping() {
  stopped = true;
  tick.cancel();
  if (http) http->stop();
  if (pop3) pop3->stop();
  mailpit_hub.close_all();
  live_hub.close_all();
  events_hub.close_all();
}

void view::state::changed() {
  if (tick_armed || stopped || (mailpit_hub.empty() && live_hub.empty())) return;
  tick_armed = true;
  // Coalesced: a burst of messages and sessions is one round of updates,
  // at most four a second, whatever the SMTP load.
  tick.expires_after(std::chrono::milliseconds(250));
  tick.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->tick_armed = false;
    if (!ec && !self->stopped) self->on_tick();
  });
}

void view::state::on_tick() {
  auto ids = std::move(pending_new);
  pending_new.clear();
  if (!mailpit_hub.empty()) {
    for (const auto& id : ids)
      if (const mail* m = box.find(id))
        mailpit_hub.broadcast(
            json{{"Type", "new"}, {"Data", list_item(*m)}}.dump(-1, ' ', false, json::error_handler_t::replace));
    if (mailbox_changed)
      mailpit_hub.broadcast(
          json{{"Type", "stats"},
               {"Data", {{"Total", box.count()}, {"Unread", box.unread()}, {"Version", "smtpkit " SMTPKIT_VERSION}}}}
              .dump());
  }
  if (!live_hub.empty() && (mailbox_changed || log.generation() != sessions_sent)) {
    json changed_sessions = json::array();
    for (const auto& s : log.list()) {
      if (s->changed <= sessions_sent || changed_sessions.size() >= 50) break;
      changed_sessions.push_back(session_log::summary(*s));
    }
    live_hub.broadcast(json{{"Type", "changed"},
                            {"Data",
                             {{"sessions", changed_sessions},
                              {"mailbox", mailbox_changed},
                              {"messages", box.count()},
                              {"unread", box.unread()}}}}
                           .dump(-1, ' ', false, json::error_handler_t::replace));
    sessions_sent = log.generation();
  }
  mailbox_changed = false;
}

void view::state::deleted(const std::vector<std::string>& ids, bool all) {
  mailbox_changed = true;
  if (!mailpit_hub.empty()) {
    if (all) {
      mailpit_hub.broadcast(R"({"Type":"truncate","Data":null})");
    } else {
      for (const auto& id : ids) mailpit_hub.broadcast(json{{"Type", "delete"}, {"Data", {{"ID", id}}}}.dump());
    }
  }
  changed();
}

void view::state::updated(const std::string& id, bool read) {
  mailbox_changed = true;
  if (!mailpit_hub.empty())
    mailpit_hub.broadcast(json{{"Type", "update"}, {"Data", {{"ID", id}, {"Read", read}}}}.dump());
  changed();
}

bool view::state::host_allowed(const std::string& host) const {
  // A page of another site must not reach this API by DNS rebinding: when
  // the view listens on loopback, the Host must name loopback too.
  if (!http || !loopback(http->endpoint().host)) return true;
  std::string h = host;
  if (!h.empty() && h.front() == '[') h = h.substr(1, h.find(']') - 1);
  else h = h.substr(0, h.rfind(':') == std::string::npos ? h.size() : h.rfind(':'));
  return h.empty() || h == "localhost" || loopback(h);
}

http_response view::state::handle(const http_request& r) {
  if (!host_allowed(r.host))
    return http_response::text(403, "Host not allowed (the web view answers for loopback names)\n");
  if (r.path.rfind("/api/smtpkit/", 0) == 0) return smtpkit(r);
  if (r.path.rfind("/api/v1/", 0) == 0 || r.path.rfind("/view/", 0) == 0) return mailpit(r);
  return page(r);
}

view::view(server& srv, view_options o, std::shared_ptr<runtime_scripts> scripts)
    : p_(std::make_shared<state>(srv, std::move(scripts))) {
  state& s = *p_;
  s.box.scan();
  if (o.http) {
    std::weak_ptr<state> weak = p_;
    s.http = std::make_unique<http_server>(srv.io(), o.http->host, o.http->port, [weak](const http_request& r) {
      auto st = weak.lock();
      return st ? st->handle(r) : http_response::text(503, "stopping\n");
    });
    s.http->websocket("/api/events", s.mailpit_hub);
    s.http->websocket("/api/smtpkit/live", s.live_hub);
    s.http->websocket("/api/smtpkit/events", s.events_hub);
    const auto& b = s.http->endpoint();
    const std::string host = b.host.find(':') != std::string::npos ? "[" + b.host + "]" : b.host;
    s.http_url = "http://" + host + ":" + std::to_string(b.port);
    srv.announce("web view and Mailpit API on " + s.http_url + "/",
                 {{"event", "service"}, {"service", "http"}, {"host", b.host}, {"port", b.port}, {"url", s.http_url}});
    s.http->start();
  }
  if (o.pop3) {
    s.pop3 = std::make_unique<pop3_server>(srv, s.box, *o.pop3,
                                           [weak = std::weak_ptr<state>(p_)](const std::vector<std::string>& ids) {
                                             if (auto st = weak.lock()) st->deleted(ids, false);
                                           });
    const auto& b = s.pop3->endpoint();
    srv.announce("POP3 on " + b.host + ":" + std::to_string(b.port),
                 {{"event", "service"}, {"service", "pop3"}, {"host", b.host}, {"port", b.port}});
    s.pop3->start();
  }
  srv.watch(p_);
}

view::~view() {
  if (p_) p_->stopping();
}

}  // namespace smtpkit::mock::view
