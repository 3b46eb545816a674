// console.cpp — the console lines of `smtpkit serve` (console.hpp).
#include "smtpkit/mock/server/console.hpp"

#include <poll.h>
#include <unistd.h>

#include <utility>  // Boost 1.74's Asio needs it before its headers
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <chrono>
#include <vector>
#include <map>
#include <set>
#include <string>

#include "smtpkit/conformance/rules.hpp"
#include "smtpkit/escape.hpp"

namespace smtpkit::mock {
namespace {

using json = nlohmann::ordered_json;
constexpr std::size_t max_held = 1u << 16;  // octets of lines waiting for stderr

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct session_count {
  std::size_t findings = 0;
  std::vector<std::string> messages;  // lines waiting for their findings count
};

}  // namespace

struct console::state : server_observer, std::enable_shared_from_this<console::state> {
  state(server& s, int f) : srv(s), cfg(s.config()), fd(f), timer(s.io()) {}

  server& srv;
  const server_config& cfg;
  int fd;
  boost::asio::steady_timer timer;
  bool armed = false;
  bool stopping_ = false;  // no more timers: the io_context must run out of work
  std::string held;
  std::size_t dropped = 0;
  std::map<std::string, std::shared_ptr<session_count>> sessions;
  // Counted findings (--fail-on) by rule: how many, in which sessions.
  std::map<std::string, std::pair<std::size_t, std::set<std::string>>> failing;

  void line(std::string text) {
    text += '\n';
    if (held.size() + text.size() > max_held) {
      ++dropped;
      return;
    }
    held += text;
    arm();
  }

  void arm() {
    if (armed || stopping_) return;
    armed = true;
    timer.expires_after(std::chrono::milliseconds(100));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code&) {
      self->armed = false;
      self->flush(false);
    });
  }

  // A message line is finished when the server answers the end of its data:
  // the findings that end brought (judged after the commit) are counted.
  void settle(session_count& c) {
    for (auto& m : c.messages) line(m + std::to_string(c.findings) + (c.findings == 1 ? " finding" : " findings"));
    c.messages.clear();
  }

  // Writes what stderr takes now; with `wait`, everything (at exit).
  void flush(bool wait) {
    if (dropped > 0 && held.size() < max_held) {
      held += "smtpkit serve: " + std::to_string(dropped) + " console lines dropped (stderr not read)\n";
      dropped = 0;
    }
    std::size_t off = 0;
    while (off < held.size()) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, wait ? 1000 : 0) <= 0 || (p.revents & POLLOUT) == 0) break;
      // At most a pipe buffer's page: a write that fits never blocks.
      ssize_t n = ::write(fd, held.data() + off, std::min<std::size_t>(held.size() - off, 4096));
      if (n < 0) {
        if (errno == EINTR) continue;
        held.clear();  // stderr is gone: nobody to tell
        return;
      }
      off += static_cast<std::size_t>(n);
    }
    held.erase(0, off);
    if (!held.empty() && !wait) arm();
  }

  struct tap final : session_tap {
    tap(std::shared_ptr<state> s, std::string i, std::shared_ptr<session_count> c)
        : st(std::move(s)), id(std::move(i)), count(std::move(c)) {}
    std::shared_ptr<state> st;
    std::string id;
    std::shared_ptr<session_count> count;
    transcript_writer dialogue;  // verbosity 2

    void show_dialogue() {
      if (st->cfg.verbosity < 2) return;
      std::string text = dialogue.drain();
      std::size_t at = 0;
      while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        st->line("[" + id + "] " + text.substr(at, end - at));
        at = end + 1;
      }
    }
    void octets(side who, std::string_view bytes) override {
      if (who == side::server && !count->messages.empty()) st->settle(*count);
      if (st->cfg.verbosity < 2) return;
      dialogue.sent(who, bytes);
      show_dialogue();
    }
    void tls_started() override {
      if (st->cfg.verbosity < 2) return;
      dialogue.tls();
      show_dialogue();
    }
    void closed(side who) override {
      if (st->cfg.verbosity < 2) return;
      dialogue.close(who);
      show_dialogue();
    }
    void finding(const json& e, side) override { st->finding(e); }
    void ended(std::size_t findings) override {
      st->settle(*count);
      if (st->cfg.verbosity >= 2) {
        dialogue.flush();
        show_dialogue();
        st->line("[" + id + "] closed, " + std::to_string(findings) + (findings == 1 ? " finding" : " findings"));
      }
      st->sessions.erase(id);
    }
  };

  std::unique_ptr<session_tap> session_opened(const std::string& id, const std::string& peer, bool tls) override {
    auto count = std::make_shared<session_count>();
    sessions[id] = count;
    if (cfg.verbosity >= 2) line("[" + id + "] open from " + peer + (tls ? " (implicit TLS)" : ""));
    return std::make_unique<tap>(shared_from_this(), id, count);
  }

  void message_stored(const stored_message& m, const json& envelope) override {
    if (cfg.verbosity < 1) return;
    std::string from = str(envelope, "mail_from");
    std::string text = "[" + m.session + "] 250 " + m.id + " " + (from.empty() ? "<>" : from) + " \u2192 ";
    if (auto it = envelope.find("rcpt_to"); it != envelope.end() && it->is_array()) {
      bool first = true;
      for (const auto& r : *it) {
        text += (first ? "" : ", ") + str(r, "address");
        first = false;
      }
    }
    text += ", " + std::to_string(m.size) + " octets, ";
    if (auto it = sessions.find(m.session); it != sessions.end()) it->second->messages.push_back(std::move(text));
    else if (envelope.contains("dsn_for")) line(text + "a delivery status notification made here");
    else line(text + "findings not known");
  }

  void finding(const json& e) {
    const std::string sid = str(e, "session");
    if (auto it = sessions.find(sid); it != sessions.end()) ++it->second->findings;
    const bool waived = e.contains("waived");
    conformance::level lvl{};
    const bool known = conformance::level_from_string(str(e, "level"), lvl) || str(e, "level") == "ADVICE";
    if (str(e, "level") == "ADVICE") lvl = conformance::level::advice;
    if (known && !waived && cfg.fail_on && conformance::counts(lvl, *cfg.fail_on)) {
      auto& f = failing[str(e, "rule")];
      ++f.first;
      if (f.second.size() < 5) f.second.insert(sid);
    }
    if (cfg.verbosity < 1) return;
    std::string text =
        "[" + sid + "] " + str(e, "side") + " " + str(e, "level") + " " + str(e, "rule") + ": " + str(e, "message");
    if (!str(e, "rfc").empty()) text += " (" + str(e, "rfc") + ")";
    if (waived) text += " \u2014 waived: " + str(e["waived"], "reason");
    line(std::move(text));
  }

  void stopping() override {
    flush(false);
    stopping_ = true;
  }

  // A script's own findings come only through the event stream.
  void event(const json& e) override {
    if (str(e, "event") == "finding" && e.contains("script")) finding(e);
  }
};

console::console(server& srv, int fd) : p_(std::make_shared<state>(srv, fd)) { srv.watch(p_); }

console::~console() {
  if (p_) p_->timer.cancel();
}

void console::finish(int exit_status) {
  state& s = *p_;
  s.timer.cancel();
  if (exit_status == 1 && s.cfg.fail_on) {
    std::size_t total = 0;
    for (const auto& [rule, f] : s.failing) total += f.first;
    std::string why = "smtpkit serve: exit 1 (--fail-on " +
                      std::string(*s.cfg.fail_on == conformance::level::must ? "must" : "should") +
                      "): " + std::to_string(total) + (total == 1 ? " finding" : " findings") + " at " +
                      std::string(conformance::to_string(*s.cfg.fail_on)) +
                      (*s.cfg.fail_on == conformance::level::must ? "" : " or above");
    s.held += why + "\n";
    for (const auto& [rule, f] : s.failing) {
      std::string sessions;
      for (const auto& id : f.second) sessions += (sessions.empty() ? "" : ", ") + id;
      if (f.first > f.second.size()) sessions += ", \u2026";
      s.held += "  " + rule + " \u00d7" + std::to_string(f.first) + " (" + sessions + ")\n";
    }
  }
  s.flush(true);
}

}  // namespace smtpkit::mock
