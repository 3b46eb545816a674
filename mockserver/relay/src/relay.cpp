// relay.cpp — store and forward (smtpkit/mock/relay/relay.hpp).
#include "smtpkit/mock/relay/relay.hpp"

#include <utility>  // Boost 1.74's Asio needs it before its headers
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "message_text.hpp"
#include "smtpkit/ascii.hpp"
#include "smtpkit/mock/client/sender.hpp"
#include "smtpkit/mock/common/envelope.hpp"
#include "smtpkit/mock/common/files.hpp"
#include "smtpkit/mock/server/server.hpp"

namespace smtpkit::mock::relay {

using json = nlohmann::ordered_json;
using clock_type = std::chrono::steady_clock;

namespace {

enum class rcpt_status : std::uint8_t { pending, delivered, failed };

struct rcpt_state {
  std::string address;
  json params = json::object();
  rcpt_status status = rcpt_status::pending;
  std::uint16_t code = 0;
  std::string reply;   ///< the last reply (or why there was none)
  std::string hop;     ///< the hop that gave it
  bool remote = true;  ///< the reply came from a hop (Remote-MTA), not from us
};

struct job {
  std::string id;
  std::string path;
  json envelope;
  std::string content;  ///< as stored (without our Received line)
  bool loaded = false;
  std::vector<rcpt_state> rcpts;
  int attempts = 0;
  clock_type::time_point due{};
  std::string arrival;  ///< RFC 5322 date of its arrival
};

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string param(const json& params, std::string_view key) { return envelope_param(params, key); }
bool has_param(const json& params, std::string_view key) { return has_envelope_param(params, key); }

}  // namespace

struct relay_agent::state : server_observer, std::enable_shared_from_this<relay_agent::state> {
  state(server& s, relay_options o) : srv(s), opt(std::move(o)), hostname(s.config().hostname) {}

  server& srv;
  relay_options opt;
  std::string hostname;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<job>> queue;
  bool stop = false;
  /// The job being delivered, and its recipients still pending when it started.
  std::shared_ptr<job> inflight;
  std::vector<std::string> inflight_pending;
  std::thread worker;
  std::size_t dsn_count = 0;

  // --- the server's side (its thread) ------------------------------------------

  std::unique_ptr<session_tap> session_opened(const std::string&, const std::string&, bool) override { return nullptr; }

  void message_stored(const stored_message& msg, const json& envelope) override {
    auto j = std::make_shared<job>();
    if (auto it = envelope.find("rcpt_to"); it != envelope.end() && it->is_array())
      for (const auto& r : *it) {
        std::string addr = str(r, "address");
        if (opt.routes.find(addr) == nullptr) continue;
        rcpt_state rs;
        rs.address = std::move(addr);
        if (auto p = r.find("params"); p != r.end() && p->is_object()) rs.params = *p;
        j->rcpts.push_back(std::move(rs));
      }
    if (j->rcpts.empty()) return;  // all of it stays here
    j->id = msg.id;
    j->path = msg.path;
    j->envelope = envelope;
    j->arrival = rfc5322_date(std::chrono::system_clock::now());
    j->due = clock_type::now();
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stop) return;
      queue.push_back(std::move(j));
    }
    cv.notify_one();
  }

  void stopping() override {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      // Being delivered now: it may still reach the next hop, or not.
      if (inflight)
        for (const auto& r : inflight_pending)
          say({{"event", "relay-pending"},
               {"id", inflight->id},
               {"rcpt", r},
               {"path", inflight->path},
               {"in_delivery", true}},
              "[relay] " + inflight->id + " " + r + " was being delivered at stop (the message stays in " +
                  inflight->path + ")");
      for (const auto& j : queue)
        for (const auto& r : j->rcpts)
          if (r.status == rcpt_status::pending)
            say({{"event", "relay-pending"}, {"id", j->id}, {"rcpt", r.address}, {"path", j->path}},
                "[relay] " + j->id + " " + r.address + " still queued at stop (the message stays in " + j->path + ")");
    }
    cv.notify_all();
  }

  // An event and a console line, from any thread; said on the server's in
  // the order they were made (each is one post to its loop).
  void say(json ev, std::string line) {
    if (srv.config().verbosity >= 1)
      boost::asio::post(srv.io(), [line = std::move(line)] { std::cerr << line << "\n"; });
    srv.emit(std::move(ev));
  }

  // --- the relay's thread ----------------------------------------------------------

  void run() {
    for (;;) {
      std::shared_ptr<job> j;
      {
        std::unique_lock<std::mutex> lock(mu);
        for (;;) {
          if (stop) return;
          auto next = std::min_element(queue.begin(), queue.end(),
                                       [](const auto& a, const auto& b) { return a->due < b->due; });
          if (next != queue.end() && (*next)->due <= clock_type::now()) {
            j = *next;
            queue.erase(next);
            inflight = j;
            inflight_pending.clear();
            for (const auto& r : j->rcpts)
              if (r.status == rcpt_status::pending) inflight_pending.push_back(r.address);
            break;
          }
          if (next == queue.end()) cv.wait(lock);
          else cv.wait_until(lock, (*next)->due);
        }
      }
      attempt(*j);
      {
        std::lock_guard<std::mutex> lock(mu);
        inflight.reset();
        if (stop) return;  // what is left was named by stopping()
      }
      const bool pending = std::any_of(j->rcpts.begin(), j->rcpts.end(),
                                       [](const rcpt_state& r) { return r.status == rcpt_status::pending; });
      if (pending && j->attempts < opt.max_attempts) {
        auto wait = opt.first_retry * (1 << std::min(j->attempts - 1, 16));
        if (wait > opt.max_retry) wait = opt.max_retry;
        j->due = clock_type::now() + wait;
        std::lock_guard<std::mutex> lock(mu);
        if (!stop) queue.push_back(j);
        continue;
      }
      give_up(*j);
    }
  }

  void load(job& j) {
    if (j.loaded) return;
    if (!read_file(j.path, j.content)) {
      for (auto& r : j.rcpts)
        if (r.status == rcpt_status::pending)
          fail(r, 451, "4.3.0 the stored message " + j.path + " cannot be read", "");
      return;
    }
    j.loaded = true;
  }

  void fail(rcpt_state& r, std::uint16_t code, std::string text, std::string hop, bool remote = false) {
    r.status = rcpt_status::failed;
    r.code = code;
    r.reply = std::to_string(code) + " " + text;
    r.hop = std::move(hop);
    r.remote = remote;
  }

  void attempt(job& j) {
    ++j.attempts;
    load(j);
    if (!j.loaded) return;
    // RFC 5321 §6.3: counting Received lines finds loops; the threshold is large.
    if (const std::size_t hops = count_received(j.content); hops > opt.max_hops) {
      for (auto& r : j.rcpts)
        if (r.status == rcpt_status::pending)
          fail(r, 554,
               "5.4.6 mail loop: " + std::to_string(hops) + " Received lines (more than " +
                   std::to_string(opt.max_hops) + ", RFC 5321 section 6.3)",
               "");
      return;
    }
    // RFC 5321 §4.1.1.4 (and §2.3.8): NUL is no part of mail data but
    // BINARYMIME's; passed on, it is a smuggling variant for the next hop.
    const json params = j.envelope.contains("mail_params") ? j.envelope["mail_params"] : json::object();
    if (!iequals(param(params, "BODY"), "BINARYMIME") && j.content.find('\0') != std::string::npos) {
      for (auto& r : j.rcpts)
        if (r.status == rcpt_status::pending)
          fail(r, 554, "5.6.0 NUL octets in message data are not relayed (RFC 5321 section 4.1.1.4)", "");
      return;
    }
    // One transaction per route, hops in order of preference.
    std::vector<const route*> routes;
    for (const auto& r : j.rcpts)
      if (r.status == rcpt_status::pending) {
        const route* rt = opt.routes.find(r.address);
        if (std::find(routes.begin(), routes.end(), rt) == routes.end()) routes.push_back(rt);
      }
    for (const route* rt : routes) deliver(j, *rt);
  }

  void deliver(job& j, const route& rt) {
    std::vector<rcpt_state*> group;
    for (auto& r : j.rcpts)
      if (r.status == rcpt_status::pending && opt.routes.find(r.address) == &rt) group.push_back(&r);
    const json& env = j.envelope;
    const json mail_params = env.contains("mail_params") ? env["mail_params"] : json::object();
    const std::string body = param(mail_params, "BODY");
    const bool utf8 = has_param(mail_params, "SMTPUTF8");
    outgoing_message base;
    base.reverse_path = str(env, "mail_from");
    base.content = received_line(env, hostname, j.id, group.size() == 1 ? group.front()->address : std::string(),
                                 std::chrono::system_clock::now()) +
                   j.content;
    const bool eight_bit = iequals(body, "8BITMIME") || has_8bit(j.content);
    const bool binary = iequals(body, "BINARYMIME");
    bool hop_dsn = false;
    sender_options so;
    so.helo = hostname;
    so.step_timeout = opt.timeout;
    so.session_timeout = opt.timeout * 20;
    so.cancelled = [this] {
      std::lock_guard<std::mutex> lock(mu);
      return stop;
    };
    so.adapt = [&](const ehlo_info& info, outgoing_message& m) -> std::optional<std::string> {
      m.params.clear();
      hop_dsn = info.has(extension::dsn);
      if (utf8) {
        if (!info.has(extension::smtputf8))
          return "5.6.7 SMTPUTF8 mail for a hop without SMTPUTF8 (RFC 6531 section 3.2)";
        m.params.push_back("SMTPUTF8");
      }
      if (binary) {
        if (!info.has(extension::binarymime) || !info.has(extension::chunking))
          return "5.6.3 BINARYMIME mail for a hop without BINARYMIME and CHUNKING (RFC 3030 section 3; not converted)";
        m.params.push_back("BODY=BINARYMIME");
        m.bdat = true;
      } else if (eight_bit) {
        if (!info.has(extension::eightbitmime))
          return "5.6.3 8-bit mail for a hop without 8BITMIME (RFC 6152 section 3; not converted)";
        m.params.push_back("BODY=8BITMIME");
      } else if (iequals(body, "7BIT")) {
        m.params.push_back("BODY=7BIT");
      }
      if (info.has(extension::size)) {
        if (info.size_limit > 0 && m.content.size() > info.size_limit)
          return "5.3.4 message of " + std::to_string(m.content.size()) + " octets over the hop's SIZE " +
                 std::to_string(info.size_limit) + " (RFC 1870)";
        m.params.push_back("SIZE=" + std::to_string(m.content.size()));
      }
      if (hop_dsn) {
        for (const char* k : {"RET", "ENVID"})
          if (auto v = param(mail_params, k); !v.empty()) m.params.push_back(std::string(k) + "=" + v);
      }
      for (std::size_t i = 0; i < m.recipients.size(); ++i) {
        m.recipients[i].params.clear();
        if (!hop_dsn) continue;
        for (const char* k : {"NOTIFY", "ORCPT"})
          if (auto v = param(group[i]->params, k); !v.empty())
            m.recipients[i].params.push_back(std::string(k) + "=" + v);
      }
      return std::nullopt;
    };
    for (auto* r : group) base.recipients.push_back({r->address, {}});

    send_result res;
    std::string hop_name;
    for (const auto& hop : rt.hops) {
      so.target = {};
      so.target.host = hop.host;
      so.target.port = hop.port;
      hop_name = hop.describe();
      res = send_message(base, so);
      write_transcript(j, hop_name, res.transcript);
      // RFC 5321 §5.1: a hop that cannot be reached, or will not take mail
      // now, gives way to the next one.
      const bool next = !res.connected || (res.mail.code == 0 && res.refused.empty());
      if (!next) break;
    }
    for (std::size_t i = 0; i < group.size(); ++i) {
      rcpt_state& r = *group[i];
      r.hop = hop_name;
      if (!res.refused.empty()) {
        const std::uint16_t code = static_cast<std::uint16_t>(res.refused[0] == '4' ? 451 : 554);
        fail(r, code, res.refused, hop_name);
        r.status = code < 500 ? rcpt_status::pending : rcpt_status::failed;
      } else {
        sent_reply out = res.outcome(i);
        r.code = out.code;
        r.remote = out.code != 0;
        r.reply = out.code != 0 ? one_line(out.text) : (res.error.empty() ? "no reply" : res.error);
        if (out.code >= 200 && out.code < 300) r.status = rcpt_status::delivered;
        else if (out.code >= 500) r.status = rcpt_status::failed;
        else r.status = rcpt_status::pending;
      }
      const char* status = r.status == rcpt_status::delivered ? "delivered"
                           : r.status == rcpt_status::failed  ? "failed"
                                                              : "deferred";
      json ev{{"event", "relay"},      {"id", j.id},       {"rcpt", r.address}, {"hop", hop_name},
              {"attempt", j.attempts}, {"status", status}, {"code", r.code},    {"reply", r.reply}};
      say(std::move(ev), "[relay] " + j.id + " " + r.address + " via " + hop_name + ": " + status + " (" + r.reply +
                             ")" + (r.status == rcpt_status::pending ? ", attempt " + std::to_string(j.attempts) : ""));
      // RFC 3461 §6.2.3.3: passed to a hop that does not offer DSN, a
      // recipient who asked for success notices is told it was relayed.
      if (r.status == rcpt_status::delivered && !hop_dsn && notify_has(param(r.params, "NOTIFY"), "SUCCESS"))
        notify(j, {&r}, dsn_action::relayed);
    }
  }

  void give_up(job& j) {
    std::vector<rcpt_state*> failed;
    for (auto& r : j.rcpts) {
      if (r.status == rcpt_status::pending) {
        // Still 4xx after every attempt: returned (Status 4.x.x, Action failed).
        r.status = rcpt_status::failed;
        say({{"event", "relay"},
             {"id", j.id},
             {"rcpt", r.address},
             {"hop", r.hop},
             {"attempt", j.attempts},
             {"status", "failed"},
             {"code", r.code},
             {"reply", r.reply}},
            "[relay] " + j.id + " " + r.address + ": failed after " + std::to_string(j.attempts) + " attempts (" +
                r.reply + ")");
      } else if (r.status == rcpt_status::failed && r.hop.empty()) {
        say({{"event", "relay"},
             {"id", j.id},
             {"rcpt", r.address},
             {"hop", nullptr},
             {"attempt", j.attempts},
             {"status", "failed"},
             {"code", r.code},
             {"reply", r.reply}},
            "[relay] " + j.id + " " + r.address + ": failed (" + r.reply + ")");
      }
      if (r.status == rcpt_status::failed && !iequals(param(r.params, "NOTIFY"), "NEVER")) failed.push_back(&r);
    }
    if (!failed.empty()) notify(j, failed, dsn_action::failed);
  }

  // A delivery status notification to the reverse-path (RFC 3464), stored
  // here and routed like any mail.
  void notify(job& j, const std::vector<rcpt_state*>& rcpts, dsn_action action) {
    const std::string to = str(j.envelope, "mail_from");
    if (to.empty()) return;  // RFC 5321 §4.5.5: never for the null reverse-path
    dsn_input in;
    in.reporting_mta = hostname;
    in.id = j.id + "." + std::to_string(++dsn_count);
    in.to = to;
    in.arrival = j.arrival;
    in.action = action;
    const json mail_params = j.envelope.contains("mail_params") ? j.envelope["mail_params"] : json::object();
    in.envid = param(mail_params, "ENVID");
    in.full = iequals(param(mail_params, "RET"), "FULL");
    in.original = j.content;
    for (const auto* r : rcpts)
      in.recipients.push_back({r->address, param(r->params, "ORCPT"), r->code, r->reply, r->remote ? r->hop : ""});
    std::string text = build_dsn(in, std::chrono::system_clock::now());
    json params = json::object();
    if (has_8bit(text)) params["BODY"] = "8BITMIME";
    // RFC 6533: a notification about SMTPUTF8 mail needs SMTPUTF8 itself
    // only when the address it goes to is UTF-8 (its own text is 7-bit).
    if (has_8bit(to)) params["SMTPUTF8"] = true;
    json env{{"session", "relay"},
             {"peer", nullptr},
             {"helo", hostname},
             {"esmtp", true},
             {"mail_from", ""},
             {"mail_params", params},
             {"rcpt_to", json::array({{{"address", to}, {"params", json::object()}}})},
             {"transport", "DATA"},
             {"tls", false},
             {"auth", nullptr},
             {"dsn_for", j.id}};
    const std::string what = action == dsn_action::relayed ? "relayed" : "failed";
    const std::string about = j.id;
    srv.inject(std::move(env), std::move(text),
               [this, to, what, about](const stored_message& m, const std::string& error) {
                 json ev{{"event", "dsn"}, {"for", about}, {"to", to}, {"action", what}};
                 if (!error.empty()) ev["error"] = error;
                 else ev["id"] = m.id;
                 if (srv.config().verbosity >= 1)
                   std::cerr << "[relay] " << about << ": delivery status notification (" << what << ") to <" << to
                             << ">" << (error.empty() ? " queued as " + m.id : ": not stored, " + error) << "\n";
                 srv.emit(std::move(ev));
               });
  }

  void write_transcript(const job& j, const std::string& hop, const std::string& text) {
    const auto& dir = srv.config().transcripts;
    if (dir.empty() || text.empty()) return;
    std::string head =
        "# smtpkit relay: message " + j.id + " to " + hop + ", attempt " + std::to_string(j.attempts) + "\n";
    (void)create_file(dir + "/relay-" + j.id + "-" + std::to_string(j.attempts) + ".smtp", head + text);
  }
};

relay_agent::relay_agent(server& srv, relay_options o) : s_(std::make_shared<state>(srv, std::move(o))) {
  srv.watch(s_);
  s_->worker = std::thread([s = s_] { s->run(); });
}

relay_agent::~relay_agent() {
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->stop = true;
  }
  s_->cv.notify_all();
  if (s_->worker.joinable()) s_->worker.join();
}

}  // namespace smtpkit::mock::relay
