// client_fuzz.cpp — `smtpkit fuzz client`: one session (a mock server with
// the plan's rules, the client started against it, the oracles) and the
// fuzzing loop around it (smtpkit/fuzz/client_fuzz.hpp).
//
// Folder layout, as `smtpkit fuzz server` leaves it:
//   DIR/corpus/ID.smtp       plans that drew new client behaviour (server scripts)
//   DIR/crashes/ID.smtp      minimised reproducers: the server script, the
//   DIR/hangs/ID.smtp        session it drew as comments
//   DIR/violations/ID.smtp
//   DIR/stats.json
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "crash.hpp"
#include "fuzz_loop.hpp"
#include "run_files.hpp"
#include "smtpkit/ascii.hpp"
#include "smtpkit/conformance/engine.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/fuzz/client_fuzz.hpp"
#include "smtpkit/mock/common/tls_context.hpp"
#include "smtpkit/mock/probe/child_process.hpp"
#include "smtpkit/mock/script/script.hpp"
#include "smtpkit/mock/server/observer.hpp"
#include "smtpkit/mock/server/script_factory.hpp"
#include "smtpkit/mock/server/server.hpp"
#include "smtpkit/transcript.hpp"

namespace smtpkit::fuzz {
namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

constexpr const char* hostname = "mx.fuzz.smtpkit.test";

// --- one session --------------------------------------------------------------------------

// A reply line's code when `line` (no line end) is one: three digits 2-5,
// then SP, "-" or its end (RFC 5321 §4.2); 0 otherwise. `more`: a "-" line.
int reply_code(std::string_view line, bool* more = nullptr) {
  if (line.size() < 3 || line[0] < '2' || line[0] > '5' || !is_digit(line[1]) || !is_digit(line[2])) return 0;
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return 0;
  if (more != nullptr) *more = line.size() > 3 && line[3] == '-';
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/// What the server saw of the client's sessions, fed live (server thread)
/// and read by the worker while the client runs.
class watcher final : public mock::server_observer {
 public:
  watcher() {
    // The server's side is judged too, not for verdicts (it misbehaves on
    // purpose) but to know where its replies stopped saying one thing.
    eng_ = conformance::engine();
    eng_.on_finding([this](const conformance::finding& f) {
      if (f.r().binds != side::server) return;
      const std::string& id = f.r().id;
      // A failure is a failure under any reading: 4yz and 5yz (§4.2.1),
      // listed for the command or not ("450 in reply to EHLO").
      if (id == "server.reply.unexpected-code" && !f.message.empty() && (f.message[0] == '4' || f.message[0] == '5'))
        return;
      // A success or intermediate code RFC 5321 §4.3.2 does not list for
      // the command (221 to STARTTLS, 235 to HELO, 250 to DATA), a reply
      // unasked or too early, a state our replies skipped: a client that
      // reads replies by their first digit (§4.2.1) and one that reads the
      // whole code part ways here.
      // And an EHLO response whose keywords or parameters break the
      // grammar (§4.1.1.1): which extensions it advertised is a guess.
      // Replies after our own 421 or 221 are replies the engine does not
      // pair (RFC 5321 §3.8, §4.1.1.10: the server closes there).
      if (id.rfind("server.reply.", 0) == 0 || id.rfind("server.sequence.", 0) == 0 ||
          id.rfind("server.ehlo-reply.", 0) == 0 || id == "server.421.close" || id == "server.quit.close" ||
          id == "server.greeting.code" || id == "server.data.early-reply" || id == "server.starttls.data-after-220" ||
          id == "server.starttls.injection")
        mark_ambiguous();
    });
    eng_.on_exchange([this](const conformance::exchange& x) {
      const std::uint64_t f = exchange_feature(x);
      features.push_back(f);
      features.push_back(mix(prev_, f));
      prev_ = f;
      // A reply nobody asked for, or the two sides apart: which reply the
      // client acted on is the client's guess from here on.
      if (x.what == conformance::exchange::kind::unsolicited || (x.state & 0x80) != 0) mark_ambiguous();
      if (x.what == conformance::exchange::kind::command && x.v != verb::unknown) verbs.emplace(to_string(x.v));
    });
  }

  std::unique_ptr<mock::session_tap> session_opened(const std::string&, const std::string&, bool) override {
    std::lock_guard lock(m);
    ++opened;
    return std::make_unique<tap>(*this, opened == 1);
  }
  void message_stored(const mock::stored_message&, const json&) override {}

  std::mutex m;
  conformance::engine eng_;
  transcript_writer writer;
  std::vector<std::uint64_t> features;
  std::size_t opened = 0, ended = 0;
  steady::time_point last_octet = steady::now();
  steady::time_point last_end{};
  std::string server_tail;  // server octets since the client's last ones (the last 4 KiB)
  // Our replies as the client may read them in more than one way: a line
  // ended by a bare CR or LF (RFC 5321 §2.3.8), a line that is not a reply
  // line (three digits 2-5, then SP, "-" or the end, §4.2), the lines of one
  // reply with different codes (§4.2.1), an unsolicited reply. The client's
  // verdicts after that rest on which reading it chose: none is given.
  std::uint64_t ambiguous_at = UINT64_MAX;  // the client's octets so far when it first became so
  std::uint64_t client_octets = 0;
  [[nodiscard]] bool ambiguous() const { return ambiguous_at != UINT64_MAX; }
  void mark_ambiguous() { ambiguous_at = std::min(ambiguous_at, client_octets); }
  std::string client_line;       // the client's line under way (its first 64 octets)
  std::string last_client_line;  // the last one it ended
  std::set<std::string> verbs;   // the commands it sent that got a reply

 private:
  class tap final : public mock::session_tap {
   public:
    tap(watcher& w, bool first) : w_(w), first_(first) {}
    void octets(side who, std::string_view bytes) override {
      std::lock_guard lock(w_.m);
      w_.last_octet = steady::now();
      if (!first_) return;
      w_.writer.sent(who, bytes);
      if (who == side::client) {
        w_.client_octets += bytes.size();
        w_.eng_.client_bytes(bytes);
        w_.server_tail.clear();
        for (char c : bytes) {
          if (c == '\n') {
            if (!w_.client_line.empty() && w_.client_line.back() == '\r') w_.client_line.pop_back();
            w_.last_client_line = std::move(w_.client_line);
            w_.client_line.clear();
          } else if (w_.client_line.size() < 64) {
            w_.client_line += c;
          }
        }
      } else {
        w_.eng_.server_bytes(bytes);
        for (const char c : bytes) {
          if ((c == '\n' && prev_ != '\r') || (prev_ == '\r' && c != '\n')) w_.mark_ambiguous();
          if (c == '\n') {
            reply_line();
            line_.clear();
            length_ = 0;
          } else if (c != '\r' && line_.size() < 4) {
            line_ += c;
          }
          // The engine reads reply lines up to 64 KiB (its framer's limit)
          // and drops the rest: past it, its pairing is no longer the client's.
          if (++length_ > (1u << 16) - 2) w_.mark_ambiguous();
          prev_ = c;
        }
        w_.server_tail.append(bytes);
        if (w_.server_tail.size() > 4096) w_.server_tail.erase(0, w_.server_tail.size() - 4096);
      }
    }
    void tls_started() override {
      std::lock_guard lock(w_.m);
      if (!first_) return;
      w_.writer.tls();
      w_.eng_.tls_start();
    }
    void closed(side who) override {
      std::lock_guard lock(w_.m);
      if (!first_) return;
      w_.writer.close(who);
      w_.eng_.close(who);
    }
    void finding(const json&, side) override {}
    void ended(std::size_t) override {
      std::lock_guard lock(w_.m);
      ++w_.ended;
      w_.last_end = steady::now();
    }

   private:
    void reply_line() {
      bool more = false;
      const int code = reply_code(line_, &more);
      if (code == 0 || (code_ != 0 && code != code_)) w_.mark_ambiguous();
      code_ = more ? code : 0;
    }
    watcher& w_;
    bool first_;
    char prev_ = 0;
    std::string line_;  // the first four octets of the server's current line
    std::size_t length_ = 0;
    int code_ = 0;  // the code of the multi-line reply under way
  };
  std::uint64_t prev_ = 0;
};

// The code of the server's last reply when `tail` ends with a complete,
// well-formed final reply line (a reply line, not a "-" one, ended by
// CRLF); 0 otherwise.
int complete_final_reply(std::string_view tail) {
  if (tail.size() < 5 || tail.substr(tail.size() - 2) != "\r\n") return 0;
  tail.remove_suffix(2);
  const std::size_t begin = tail.rfind('\n');
  const std::string_view line = begin == std::string_view::npos ? tail : tail.substr(begin + 1);
  bool more = false;
  const int code = reply_code(line, &more);
  return more || line.find('\r') != std::string_view::npos ? 0 : code;
}

struct session_outcome {
  bool started = false;
  bool connected = false;
  std::string error;
  bool crashed = false;
  bool hung = false;
  bool stalled = false;  // killed while it waited for a reply we never finished: not a finding
  std::string crash_signature, crash_detail, hang_what;
  std::vector<conformance::finding> findings;  // client side, at the fail level, the first one counted
  bool pipelining = false;                     // PIPELINING was advertised (the last EHLO response)
  std::uint64_t judged_until = UINT64_MAX;  // client verdicts count before this client offset (watcher::ambiguous_at)
  std::vector<std::uint64_t> features;
  std::string transcript;
  std::vector<std::string> verbs;
  std::string describe;
};

struct run_setup {
  mock::test_pki pki;
  std::string dir;
  std::string message_file;
};

session_outcome run_client_session(const server_plan& plan, const client_options& o, const run_setup& setup,
                                   const std::string& work) {
  session_outcome r;
  auto loaded = mock::load_script(to_script(plan), "plan.smtp", side::server);
  if (auto* e = std::get_if<mock::script_error>(&loaded)) {
    r.error = "the plan does not load: " + e->to_string();
    return r;
  }
  mock::server_config cfg;
  cfg.listens.push_back({"127.0.0.1", 0, o.implicit_tls});
  cfg.hostname = hostname;
  cfg.discard = true;
  cfg.verbosity = 0;
  cfg.handle_signals = false;  // Ctrl-C is the fuzzer's: it stops the run and keeps what it found
  cfg.check_client = false;
  cfg.shutdown_grace = std::chrono::seconds(0);
  cfg.tls_cert = setup.pki.good.cert;
  cfg.tls_key = setup.pki.good.key;
  cfg.idle_timeout = std::chrono::duration_cast<std::chrono::seconds>(o.session_timeout) + std::chrono::seconds(1);
  auto seen = std::make_shared<watcher>();
  std::optional<mock::server> srv;
  try {
    srv.emplace(cfg, mock::script_factory({std::move(std::get<mock::script>(loaded))}));
  } catch (const std::exception& e) {
    r.error = std::string("cannot start the mock server: ") + e.what();
    return r;
  }
  srv->watch(seen);
  const auto port = std::to_string(srv->endpoints().front().port);
  std::thread loop([&] { srv->run(); });

  const std::vector<std::pair<std::string, std::string>> values{
      {"host", "127.0.0.1"}, {"port", port},         {"message", setup.message_file},
      {"ca", setup.pki.ca},  {"from", o.from},       {"rcpt", o.rcpt},
      {"rcpt2", o.rcpt2},    {"user", o.auth.first}, {"password", o.auth.second}};
  std::vector<std::string> argv;
  for (const auto& a : o.command) argv.push_back(mock::substitute(a, values));
  const std::vector<std::pair<std::string, std::string>> env{{"SMTP_HOST", "127.0.0.1"},
                                                             {"SMTP_PORT", port},
                                                             {"SMTP_MESSAGE", setup.message_file},
                                                             {"SMTP_CA", setup.pki.ca},
                                                             {"SMTP_FROM", o.from},
                                                             {"SMTP_RCPT", o.rcpt},
                                                             {"SMTP_USER", o.auth.first},
                                                             {"SMTP_PASSWORD", o.auth.second}};
  const auto t0 = steady::now();
  mock::child_process child(argv, env, o.message_on_stdin ? setup.message_file : std::string(), work + "/client.out",
                            work + "/client.err");
  r.started = child.started();
  bool killed = false;
  if (!r.started) {
    r.error = "cannot start the client: " + child.error();
  } else {
    const auto deadline = t0 + o.session_timeout;
    for (;;) {
      if (child.poll()) break;
      const auto now = steady::now();
      if (now >= deadline) {
        child.kill();
        killed = true;
        break;
      }
      {
        std::lock_guard lock(seen->m);
        if (seen->opened > 0 && seen->ended == seen->opened && now - seen->last_end >= o.hang_timeout) {
          r.hung = true;
          r.hang_what = "still running " + std::to_string(o.hang_timeout.count()) + " ms after its connection closed";
        } else if (seen->opened > 0 && seen->ended < seen->opened && now - seen->last_octet >= o.hang_timeout &&
                   !seen->ambiguous() && seen->eng_.awaiting() == 0 && seen->client_line.empty()) {
          // The ball is in the client's court: every command answered with a
          // complete final reply, and our replies open to one reading only
          // (an extra reply would have the client wait for one more). Not after a 220 to STARTTLS (the client is
          // in the handshake), nor after 221 or 421 (it may wait for our
          // close, RFC 5321 §3.8, §4.1.1.10).
          const int code = complete_final_reply(seen->server_tail);
          const std::string& last = seen->last_client_line;
          const bool handshake = code == 220 && istarts_with(last, "STARTTLS");
          if (code != 0 && !handshake && code != 221 && code != 421) {
            r.hung = true;
            std::string line = seen->server_tail.substr(0, seen->server_tail.size() - 2);
            line = line.substr(line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1);
            r.hang_what = "no command, close or exit " + std::to_string(o.hang_timeout.count()) + " ms after \"" +
                          escape(line.substr(0, 60)) + "\"" +
                          (last.empty() ? "" : " (its last command: " + escape(last.substr(0, 30)) + ")");
          }
        }
      }
      if (!r.hung) {
        // Both sides quiet, the client still waiting for us (a reply cut,
        // late, or never sent): the session has shown what it can.
        std::lock_guard lock(seen->m);
        if (seen->opened > 0 && seen->ended < seen->opened && now - seen->last_octet >= o.hang_timeout)
          r.stalled = true;
      }
      if (r.hung || r.stalled) {
        child.kill();
        killed = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  srv->stop();
  loop.join();
  srv.reset();

  r.describe = child.describe();
  const std::string err = mock::read_tail(work + "/client.err", 16384);
  if (r.started && child.exited() && !killed) {
    int signo = child.status() < 0 ? -child.status() : child.status() > 128 ? child.status() - 128 : 0;
    if (auto sig = crash_signature(signo, err)) {
      r.crashed = true;
      r.hung = false;
      r.crash_signature = *sig;
      r.crash_detail = tail(err, 2000);
    }
  }

  std::lock_guard lock(seen->m);
  r.connected = seen->opened > 0;
  if (!r.connected && r.error.empty()) r.error = "the client did not connect (" + r.describe + "): " + tail(err, 400);
  seen->writer.flush();
  r.transcript = seen->writer.take();
  r.verbs.assign(seen->verbs.begin(), seen->verbs.end());
  r.judged_until = seen->ambiguous_at;
  r.pipelining = seen->eng_.advertised(extension::pipelining);
  if (!killed) seen->eng_.finish();
  r.findings = seen->eng_.findings();
  r.features = std::move(seen->features);
  // The client's own word on what happened is behaviour too: its exit
  // status and its first line of complaint, digits folded.
  r.features.push_back(mix(0xe1, static_cast<std::uint64_t>(child.status())));
  std::string first = err.substr(0, err.find('\n'));
  for (auto& c : first)
    if (is_digit(c)) c = '0';
  if (first.size() > 80) first.resize(80);
  r.features.push_back(mix(0xe2, fnv(first)));
  if (seen->opened > 1) r.features.push_back(mix(0xe3, std::min<std::size_t>(seen->opened, 4)));
  return r;
}

// --- the fuzzing loop ---------------------------------------------------------------------

// Rules whose verdicts describe how a client leaves a session that we broke
// on purpose, or what it says about itself whatever we reply: not findings
// of this fuzzer (`smtpkit probe client` judges them).
bool reaction_rule(const std::string& id) {
  return id.rfind("client.session.", 0) != 0 && id.rfind("client.domain.", 0) != 0;
}

struct entry {
  server_plan plan;
  std::string name;
};

class client_fuzzer final : public fuzz_loop {
 public:
  explicit client_fuzzer(const client_fuzz_options& o) : fuzz_loop(limits_of(o, "behaviours")), o_(o) {}

  bool setup(std::string& error) {
    if (!make_folders(error, "work")) return false;
    setup_.dir = (fs::path(o_.out_dir) / "work").string();
    std::error_code ec;
    fs::create_directories(setup_.dir + "/pki", ec);
    try {
      setup_.pki = mock::write_test_pki(setup_.dir + "/pki", hostname);
    } catch (const std::exception& e) {
      error = std::string("cannot write the test certificates: ") + e.what();
      return false;
    }
    setup_.message_file = setup_.dir + "/message.eml";
    (void)write_file(setup_.message_file, "From: <" + o_.client.from + ">\nTo: <" + o_.client.rcpt +
                                              ">\nSubject: smtpkit fuzz client\nDate: Thu, 01 Jan 2026 00:00:00 "
                                              "+0000\nMessage-ID: <fuzz@fuzz.smtpkit.test>\n\nA message from "
                                              "smtpkit fuzz client.\n");
    // The baseline: the reference server's replies, unmutated. The client
    // must get through it; what it breaks there is not the fuzzer's.
    const std::string work = worker_dir(0);
    session_outcome b = run_client_session({}, o_.client, setup_, work);
    sessions_.fetch_add(1);
    if (!b.connected) {
      error = b.error.empty() ? "the client did not connect to the mock server" : b.error;
      return false;
    }
    for (const auto& f : b.findings) {
      if (!counts_at_fail_level(f)) continue;
      if (baseline_rules_.insert(f.r().id).second)
        stats_.baseline.push_back(f.r().id + ": " + f.message + " (" + f.r().rfc + ")");
    }
    for (const auto& v : b.verbs) verbs_.push_back(v);
    for (auto f : b.features) features_.insert(f);
    corpus_.push_back({server_plan{}, "baseline"});
    ++stats_.seeds;
    sync_corpus_folder();
    return true;
  }

 private:
  bool counts_at_fail_level(const conformance::finding& f) const {
    if (o_.client.fail_on == fail_level::crash || o_.client.fail_on == fail_level::hang) return false;
    const auto lvl = o_.client.fail_on == fail_level::should ? conformance::level::should : conformance::level::must;
    return f.r().binds == side::client && f.counts(lvl);
  }

  std::string worker_dir(unsigned job) const {
    const std::string d = setup_.dir + "/job" + std::to_string(job);
    std::error_code ec;
    fs::create_directories(d, ec);
    return d;
  }

  std::size_t corpus_size() const override { return corpus_.size(); }
  std::size_t feature_count() const override { return features_.size(); }
  void sync() override { sync_corpus_folder(); }

  void sync_corpus_folder() {
    std::error_code ec;
    std::vector<fs::path> files;
    for (auto it = fs::directory_iterator(fs::path(o_.out_dir) / "corpus", ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      if (it->path().extension() == ".smtp") files.push_back(it->path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (!known_files_.insert(f.filename().string()).second) continue;
      server_plan p;
      if (plan_from_script(mock::read_tail(f.string(), 4u << 20), p)) corpus_.push_back({std::move(p), f.string()});
    }
  }

  std::vector<verdict> verdicts_of(const session_outcome& r) const {
    std::vector<verdict> v;
    if (r.crashed) v.push_back({oracle::crash, "crash " + r.crash_signature, "crash: " + r.crash_signature, "", {}});
    if (r.hung && o_.client.fail_on != fail_level::crash)
      v.push_back({oracle::hang, "hang " + hang_kind(r.hang_what), "hang: " + r.hang_what, "", {}});
    if (!r.crashed) {
      for (const auto& f : r.findings) {
        if (!counts_at_fail_level(f) || !reaction_rule(f.r().id) || baseline_rules_.count(f.r().id) != 0) continue;
        // After an ambiguous reply only the rule made for one: a client
        // acting on replies injected before TLS (RFC 3207 §4.2).
        // With PIPELINING a client may send MAIL, RCPT and RSET before the
        // replies to the commands ahead of them (RFC 2920 §3.1); the order
        // in which the server read them is not the order the client knew
        // things in (TLS records, separate writes), so a verdict on the
        // transaction's sequence would rest on timing.
        if (r.pipelining && f.r().id.rfind("client.sequence.", 0) == 0 && f.r().id != "client.sequence.after-quit")
          break;
        const bool before = f.anchor == side::client && f.offset < r.judged_until;
        if (!before && f.r().id != "client.starttls.injected-reply") break;
        std::string verb = f.excerpt.substr(0, f.excerpt.find(' '));
        for (auto& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (verb.size() > 12 || verb.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
          verb = "(data)";
        v.push_back({oracle::violation, "violation " + f.r().id + " " + verb,
                     "violation " + f.r().id + ": " + f.message + " (" + f.r().rfc + ")", f.r().id, f.r().lvl});
        break;  // the first: after it, the dialogue comes apart
      }
    }
    return v;
  }

  // A hang by where it happened: after which reply code class, or after the close.
  static std::string hang_kind(const std::string& what) {
    if (what.rfind("still running", 0) == 0) return "after-close";
    const auto q = what.find('"');
    return q == std::string::npos ? what : what.substr(q + 1, 3);
  }

  std::optional<session_outcome> attempt(const server_plan& p, const std::string& work) {
    session_outcome r = run_client_session(p, o_.client, setup_, work);
    sessions_.fetch_add(1);
    if (r.stalled) stalled_.fetch_add(1);
    if (!r.connected && !r.crashed) {
      errors_.fetch_add(1);
      return std::nullopt;
    }
    return r;
  }

  bool gives(const server_plan& p, const std::string& key, const std::string& work, session_outcome* out = nullptr) {
    if (stopping()) return false;
    auto r = attempt(p, work);
    if (!r) return false;
    for (const auto& v : verdicts_of(*r))
      if (v.key == key) {
        if (out != nullptr) *out = std::move(*r);
        return true;
      }
    return false;
  }

  // Rules first, then the records of each body, then the lines of long replies.
  server_plan minimise(server_plan p, const std::string& key, const std::string& work) {
    const auto until = steady::now() + o_.minimise_time;
    for (std::size_t i = p.rules.size(); i-- > 0 && p.rules.size() > 1 && steady::now() < until;) {
      server_plan c = p;
      c.rules.erase(c.rules.begin() + static_cast<std::ptrdiff_t>(i));
      if (gives(c, key, work)) p = std::move(c);
    }
    for (std::size_t i = 0; i < p.rules.size() && steady::now() < until; ++i) {
      for (std::size_t k = p.rules[i].body.size(); k-- > 0 && p.rules[i].body.size() > 1 && steady::now() < until;) {
        server_plan c = p;
        c.rules[i].body.erase(c.rules[i].body.begin() + static_cast<std::ptrdiff_t>(k));
        if (gives(c, key, work)) p = std::move(c);
      }
      for (std::size_t k = 0; k < p.rules[i].body.size(); ++k) {
        // An "S= ..." of many lines: the middle half dropped while it still gives the finding.
        while (p.rules[i].body[k].rfind("S= ", 0) == 0 && steady::now() < until) {
          const std::string& rec = p.rules[i].body[k];
          std::vector<std::size_t> ends;
          for (std::size_t at = rec.find("\\n"); at != std::string::npos; at = rec.find("\\n", at + 2))
            ends.push_back(at + 2);
          if (ends.size() < 8) break;
          const std::size_t from = ends[ends.size() / 4], to = ends[ends.size() * 3 / 4];
          server_plan c = p;
          c.rules[i].body[k].erase(from, to - from);
          if (!gives(c, key, work)) break;
          p = std::move(c);
        }
      }
    }
    return p;
  }

  void record(const verdict& v, const server_plan& input, const session_outcome& first, std::uint64_t session_no,
              const std::string& work) {
    if (!claim(v.key)) return;
    const double at_s = elapsed_s();
    server_plan p = input;
    session_outcome shown = first;
    std::string how = "played again after minimising, same finding";
    bool flaky = false;
    if (stopping()) {
      how = "as seen, not played again (the run was ending)";
    } else {
      bool again = false;
      for (int i = 0; i < 3 && !again && !stopping(); ++i) again = gives(input, v.key, work);
      if (!again) {
        flaky = !stopping();
        how = flaky ? "NOT seen again in 3 more runs (timing or load; not counted as a finding)"
                    : "as seen, not played again (the run was ending)";
      } else {
        if (o_.minimise) p = minimise(input, v.key, work);
        else how = "played again, same finding";
        if (!gives(p, v.key, work, &shown)) {
          p = input;
          shown = first;
          how = "seen again before minimising, not after: the plan as first seen";
        }
      }
    }
    const fs::path file = reproducer_path(v, flaky);
    std::string cmd;
    for (const auto& a : o_.client.command) cmd += (cmd.empty() ? "" : " ") + a;
    std::ostringstream head;
    head << "# finding: " << (v.kind == oracle::violation ? v.rule : v.title) << "\n";
    head << "# oracle: " << to_string(v.kind) << "\n";
    head << "# what: " << escape(v.title) << "\n";
    head << "# target: " << escape(cmd) << "\n";
    head << "# found: session " << session_no << ", " << static_cast<long>(at_s) << " s into the run; " << how << "\n";
    head << "# replay: smtpkit serve --script FILE " << (o_.client.implicit_tls ? "--tls-listen" : "--listen")
         << " 127.0.0.1:2525, then run the client against 127.0.0.1:2525\n";
    if (!shown.crash_detail.empty()) {
      head << "# the client's last words:\n";
      std::istringstream in(shown.crash_detail);
      for (std::string l; std::getline(in, l);) head << "#   " << escape(l) << "\n";
    }
    head << "# the session it drew:\n";
    {
      std::istringstream in(shown.transcript);
      for (std::string l; std::getline(in, l);) head << "#   " << l << "\n";
    }
    (void)write_file(file, head.str() + to_script(p));
    found f;
    f.file = file.string();
    f.at_s = at_s;
    f.session = session_no;
    f.octets = p.size();
    f.transcript = shown.transcript;  // the report judges the session, not the script
    keep(v, std::move(f), flaky);
  }

  void work(unsigned job) override {
    std::mt19937_64 rng(o_.seed * 0x9E3779B97F4A7C15ull + job + 1);
    const std::string dir = worker_dir(job);
    while (!stopping()) {
      server_plan p;
      std::vector<std::string> verbs;
      {
        std::lock_guard lock(m_);
        const std::size_t n = corpus_.size();
        // Newer plans (further from the baseline) more often; the baseline
        // one time in four, so one bent reply in an otherwise good session
        // stays the common case.
        std::size_t pick = rng() % 4 == 0       ? 0
                           : n > 4 && rng() % 2 ? n - 1 - rng() % std::max<std::size_t>(1, n / 4)
                                                : rng() % n;
        p = corpus_[pick].plan;
        verbs = verbs_;
      }
      mutate_plan(p, verbs, rng);
      auto r = attempt(p, dir);
      if (!r) continue;
      const std::uint64_t session_no = sessions_.load();
      {
        std::lock_guard lock(m_);
        for (const auto& v : r->verbs)
          if (std::find(verbs_.begin(), verbs_.end(), v) == verbs_.end()) verbs_.push_back(v);
        bool fresh = false;
        for (auto f : r->features) fresh |= features_.insert(f).second;
        if (fresh) {
          const std::string script = to_script(p);
          const std::string name = hex64(fnv(script) ^ session_no) + ".smtp";
          known_files_.insert(name);
          const fs::path path = fs::path(o_.out_dir) / "corpus" / name;
          defer_write(path, "# plan " + std::to_string(session_no) + " of smtpkit fuzz client\n" + script);
          corpus_.push_back({p, path.string()});
        }
      }
      for (const auto& v : verdicts_of(*r)) {
        if (!known(v.key)) record(v, p, *r, session_no, dir);
      }
    }
  }

  const client_fuzz_options& o_;
  run_setup setup_;
  std::vector<entry> corpus_;
  std::vector<std::string> verbs_;
  std::set<std::string> baseline_rules_;
  std::unordered_set<std::uint64_t> features_;
  std::set<std::string> known_files_;
};

}  // namespace

run_info describe_run(const client_fuzz_options& o) {
  run_info r;
  r.tool = "smtpkit fuzz client";
  for (const auto& a : o.client.command) r.target += (r.target.empty() ? "" : " ") + a;
  r.mutator = "replies";
  r.seed = o.seed;
  r.jobs = o.jobs;
  r.judged = side::client;
  return r;
}

fuzz_stats fuzz_client(const client_fuzz_options& o, std::string& error) {
  if (o.client.command.empty()) {
    error = "no client command";
    return {};
  }
  client_fuzzer f(o);
  if (!f.setup(error)) return {};
  return f.run();
}

}  // namespace smtpkit::fuzz
