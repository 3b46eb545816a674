// driver.cpp — one dialogue played to a server session in process, judged
// by the conformance engine (smtpkit/fuzz/libfuzzer.hpp): the violation
// oracle of oracle.hpp, and the hang oracle below.
//
// Order of events: the greeting, then each write followed by what the
// server sent back while taking it, then the client's close and the
// server's last words. The engine sees them in that order, so replies to a
// pipelined group follow the group (RFC 2920 §3.1).
// Limits: the live transcript is written only when something was found (it
// costs an escape of every octet); until then the octets are only kept.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "smtpkit/conformance/engine.hpp"
#include "smtpkit/fuzz/libfuzzer.hpp"
#include "smtpkit/fuzz/oracle.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::fuzz {
namespace {

class callback_session final : public server_session {
 public:
  explicit callback_session(session_callbacks cb) : cb_(std::move(cb)) {}
  void greet(std::string& out) override {
    if (cb_.greet) out += cb_.greet();
  }
  void receive(std::string_view in, std::string& out) override {
    if (cb_.receive) out += cb_.receive(in);
  }
  void client_closed(std::string& out) override {
    if (cb_.client_closed) out += cb_.client_closed();
  }
  [[nodiscard]] bool closed() const override { return cb_.closed && cb_.closed(); }

 private:
  session_callbacks cb_;
};

// What each side sent, in order, for the live transcript.
struct wire_log {
  enum class kind : std::uint8_t { client, server, client_close, server_close };
  struct piece {
    kind what;
    std::size_t begin, end;  // in client_ or server_
  };
  std::string client, server;
  std::vector<piece> pieces;

  void add(kind k, std::string_view octets) {
    std::string& s = k == kind::client ? client : server;
    pieces.push_back({k, s.size(), s.size() + octets.size()});
    s += octets;
  }
  void close(kind k) { pieces.push_back({k, 0, 0}); }

  [[nodiscard]] std::string transcript() const {
    transcript_writer tw;
    bool client_last = false;  // two writes with nothing between: mark the boundary (dialogue.hpp)
    for (const piece& p : pieces) {
      switch (p.what) {
        case kind::client:
          if (client_last) tw.directive("pause", "0ms");
          tw.sent(side::client, std::string_view(client).substr(p.begin, p.end - p.begin));
          client_last = true;
          break;
        case kind::server:
          tw.sent(side::server, std::string_view(server).substr(p.begin, p.end - p.begin));
          client_last = false;
          break;
        case kind::client_close: tw.close(side::client); break;
        case kind::server_close: tw.close(side::server); break;
      }
    }
    tw.flush();
    return tw.take();
  }
};

}  // namespace

std::unique_ptr<server_session> make_session(session_callbacks cb) {
  return std::make_unique<callback_session>(std::move(cb));
}

dialogue input_dialogue(std::string_view input) {
  if (input.empty()) return {};
  read_options ro;
  ro.patterns = true;
  ro.extensions = true;
  auto r = read_transcript(input, "input", ro);
  if (r.ok()) return from_transcript(*r.value);
  dialogue d;
  d.writes.push_back({std::string(input), 0});
  return d;
}

check_result check_dialogue(server_session& s, const dialogue& d, const oracle_options& o) {
  check_result r;
  conformance::engine eng(oracle_engine_options());
  violation_oracle oracle(o.fail_on);
  bool goodbye = false;  // 221 to QUIT or 421: the server announced its close (RFC 5321 §3.8)
  bool desync = false;   // the two sides no longer agree on the stream (engine.hpp)
  eng.on_exchange([&](const conformance::exchange& x) {
    oracle.exchange(x);
    ++r.replies;
    if (x.code == 421 || (x.code == 221 && x.v == verb::quit)) goodbye = true;
    if (x.state & 0x80) desync = true;
  });
  eng.on_finding([&](const conformance::finding& f) {
    if (r.found() || !oracle.counts(eng, f)) return;
    for (const std::string& id : o.waive)
      if (id == f.r().id) return;
    r.what = verdict::violation;
    r.finding = f;
  });

  wire_log log;
  std::string out;
  bool server_closed = false;
  auto from_server = [&] {
    if (!out.empty()) {
      log.add(wire_log::kind::server, out);
      eng.server_bytes(out);
      out.clear();
    }
    if (!server_closed && s.closed()) {
      server_closed = true;
      log.close(wire_log::kind::server_close);
      eng.close(side::server);
    }
  };

  s.greet(out);
  from_server();
  for (const write& w : d.writes) {
    if (server_closed || r.found()) break;
    log.add(wire_log::kind::client, w.bytes);
    oracle.client_bytes(w.bytes);
    eng.client_bytes(w.bytes);
    ++r.writes;
    s.receive(w.bytes, out);
    from_server();
  }
  if (!server_closed && !r.found()) {
    log.close(wire_log::kind::client_close);
    eng.close(side::client);
    s.client_closed(out);
    from_server();
    // Hang: the client is gone and has said all it will; a reply the
    // engine counts as owed (RFC 5321 §4.2, RFC 2920 §3.1) has not come and
    // the server still holds the connection. Not judged when the count
    // cannot be trusted: where the oracle counts no violation (oracle.hpp:
    // bare line ends), once the two sides disagree on the stream, while a
    // reply is held for a bare-CR/LF line, or after the server said it was
    // closing.
    if (o.hang && !r.found() && !server_closed && !goodbye && !desync && oracle.pairing_known(eng) && !eng.holding() &&
        eng.awaiting() > 0) {
      r.what = verdict::hang;
      r.hang_at = eng.first_awaiting();
    }
  }
  if (!r.found()) eng.finish();
  if (r.found()) {
    r.dialogue = to_transcript_text(d);
    r.live = log.transcript();
  }
  return r;
}

check_result check_input(server_session& s, std::string_view input, const oracle_options& o) {
  return check_dialogue(s, input_dialogue(input), o);
}

oracle_options with_environment(oracle_options o) {
  if (const char* level = std::getenv("SMTPKIT_FUZZ_FAIL_ON")) {
    const std::string_view v(level);
    if (v == "should") o.fail_on = conformance::level::should;
    else if (v == "must") o.fail_on = conformance::level::must;
  }
  if (const char* waive = std::getenv("SMTPKIT_FUZZ_WAIVE")) {
    std::string id;
    for (const char* c = waive;; ++c) {
      if (*c == ',' || *c == ' ' || *c == '\0') {
        if (!id.empty()) o.waive.push_back(std::move(id));
        id.clear();
        if (*c == '\0') break;
      } else {
        id += *c;
      }
    }
  }
  return o;
}

std::string describe(const check_result& r) {
  std::string out = "==smtpkit::fuzz== ";
  if (r.what == verdict::violation) {
    const conformance::rule& rule = r.finding.r();
    out += "violation " + rule.id + " (" + std::string(conformance::to_string(rule.lvl)) + ", " + rule.rfc + ")\n";
    out += "  rule: " + rule.text + "\n";
    out += "  what: " + r.finding.message + "\n";
    out += "  at:   " + std::string(to_string(r.finding.anchor)) + " octet " + std::to_string(r.finding.offset);
    if (!r.finding.excerpt.empty()) out += ": " + r.finding.excerpt;
    out += "\n";
  } else if (r.what == verdict::hang) {
    out += "hang: a reply owed to " + (r.hang_at.empty() ? std::string("a command") : r.hang_at) +
           " had not come when the client closed, and the server kept the connection (RFC 5321 §4.2)\n";
  } else {
    out += "clean\n";
    return out;
  }
  out += "--- the input, a dialogue (the crash file; smtpkit fuzz server --seeds FILE takes it):\n";
  out += r.dialogue;
  out += "--- the session as it went (smtpkit check FILE judges it again; smtpkit replay FILE plays it to a server):\n";
  out += r.live;
  out += "--- end\n";
  return out;
}

void check_or_abort(server_session& s, const std::uint8_t* data, std::size_t size, const oracle_options& o) {
  const check_result r = check_input(s, std::string_view(reinterpret_cast<const char*>(data), size), o);
  if (!r.found()) return;
  const std::string text = describe(r);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace smtpkit::fuzz
