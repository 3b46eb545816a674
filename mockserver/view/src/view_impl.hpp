// view_impl.hpp — the web view's state (view.hpp): the mailbox, the session
// log, the WebSocket hubs, the HTTP and POP3 listeners, and the handlers of
// the Mailpit API (http_mailpit.cpp), smtpkit's API and the page
// (http_smtpkit.cpp). Everything runs on the SMTP server's thread.
#pragma once

#include <utility>  // Boost 1.74's Asio needs it before its headers
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "http_server.hpp"
#include "mailbox.hpp"
#include "session_log.hpp"
#include "smtpkit/mock/view/view.hpp"

namespace smtpkit::mock::view {

class pop3_server;

// Responses and query values both APIs (Mailpit's and smtpkit's) build.
inline http_response json_response(const nlohmann::ordered_json& j) {
  http_response r;
  r.body = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}
inline http_response not_found() { return http_response::text(404, "Not found"); }
/// The query's `key` as a count, or `fallback` when absent, negative or not a number.
inline std::size_t number(const http_request& r, const char* key, std::size_t fallback) {
  auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return fallback;
  try {
    long long v = std::stoll(it->second);
    return v < 0 ? fallback : static_cast<std::size_t>(v);
  } catch (...) {
    return fallback;
  }
}

struct chaos_trigger {
  int code = 451;
  int probability = 0;  ///< percent
};

struct view::state : server_observer, std::enable_shared_from_this<view::state> {
  state(server& s, std::shared_ptr<runtime_scripts> r);
  ~state() override;

  server& srv;
  const server_config& cfg;
  std::shared_ptr<runtime_scripts> scripts;
  mailbox box;
  session_log log;
  std::int64_t started_us;

  // Live updates: Mailpit's /api/events, smtpkit's /api/smtpkit/live (what
  // changed, coalesced) and /api/smtpkit/events (the --events stream).
  ws_hub mailpit_hub;
  ws_hub live_hub;
  ws_hub events_hub;
  boost::asio::steady_timer tick;
  bool tick_armed = false;
  bool stopped = false;
  std::vector<std::string> pending_new;  // ids of messages not yet announced (newest last, bounded)
  bool mailbox_changed = false;
  std::uint64_t sessions_sent = 0;  // session_log generation last announced
  bool following_events = false;
  bool api_script_follows = false;

  chaos_trigger chaos_auth, chaos_rcpt, chaos_sender;
  std::string api_script;  // text of the script set by PUT /api/smtpkit/script

  std::unique_ptr<http_server> http;
  std::string http_url;
  std::unique_ptr<pop3_server> pop3;

  // server_observer
  std::unique_ptr<session_tap> session_opened(const std::string& id, const std::string& peer, bool tls) override;
  void message_stored(const stored_message& m, const json& envelope) override;
  void event(const json& e) override;
  void stopping() override;

  void changed();  // something to announce: arm the tick
  void on_tick();
  void deleted(const std::vector<std::string>& ids, bool all);
  void updated(const std::string& id, bool read);

  // HTTP
  http_response handle(const http_request& r);
  http_response mailpit(const http_request& r);
  http_response smtpkit(const http_request& r);
  http_response page(const http_request& r);
  bool host_allowed(const std::string& host) const;

  // Mailpit's JSON
  json list_item(const mail& m);
  json message_json(const mail& m);
  json messages_page(const std::vector<const mail*>& list, std::size_t start, std::size_t limit);
  json chaos_json() const;
  std::string chaos_script_text() const;
  json info_json();
};

/// RFC 3339 with nanoseconds' place as Mailpit writes it, from Unix µs.
std::string mailpit_time(std::int64_t unix_us);

}  // namespace smtpkit::mock::view
