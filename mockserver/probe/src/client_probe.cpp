// client_probe.cpp — `smtpkit probe client` (client_probe.hpp): for each
// scenario a mock server of its own on a port of its own, the client under
// test started against it (or the next session taken, with --listen), the
// session recorded as it crossed the wire, and a verdict from the
// scenario's expectations and the engine's client rules over the session.
#include "smtpkit/mock/probe/client_probe.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "smtpkit/mock/probe/child_process.hpp"
#include "client_expect.hpp"
#include "smtpkit/ascii.hpp"
#include "smtpkit/mock/common/files.hpp"
#include "smtpkit/mock/common/tls_context.hpp"
#include "smtpkit/mock/server/script_factory.hpp"
#include "smtpkit/mock/server/server.hpp"

namespace smtpkit::mock {
namespace {

namespace fs = std::filesystem;
using conformance::outcome;
using json = nlohmann::ordered_json;
using steady = std::chrono::steady_clock;

constexpr std::size_t output_keep = 4096;

// --- what the scenario's server saw ---------------------------------------------------

/// Watches one scenario's server: the first session's octets (its dialogue),
/// the command lines and script mismatches of every session, the messages.
class collector final : public server_observer {
 public:
  std::unique_ptr<session_tap> session_opened(const std::string&, const std::string&, bool) override {
    const bool first = opened_.fetch_add(1) == 0;
    return std::make_unique<tap>(*this, first);
  }
  void message_stored(const stored_message& m, const json& envelope) override {
    stored_copy msg{m.path, {}};
    if (auto it = envelope.find("rcpt_to"); it != envelope.end() && it->is_array())
      for (const auto& r : *it)
        if (r.is_object()) msg.rcpts.push_back(r.value("address", std::string()));
    std::lock_guard<std::mutex> lock(mu_);
    messages_.push_back(std::move(msg));
  }
  void event(const json& e) override {
    const auto kind = e.value("event", std::string());
    std::lock_guard<std::mutex> lock(mu_);
    if (kind == "command") {
      commands_.push_back({e.value("line", std::string()), tls_});
    } else if (kind == "finding" && e.value("rule", std::string()) == "script.mismatch") {
      mismatches_.push_back({e.value("script_line", std::size_t{0}),
                             e.value("expected", std::string()),
                             e.value("received", std::string()),
                             {}});
      if (reason_.empty()) reason_ = e.value("message", std::string());
    }
  }

  [[nodiscard]] std::size_t opened() const { return opened_.load(); }
  [[nodiscard]] std::size_t ended() const { return ended_.load(); }
  // Read these once the server has stopped.
  std::string dialogue() {
    writer_.flush();
    return writer_.take();
  }
  const std::vector<stored_copy>& messages() const { return messages_; }
  const std::vector<sent_command>& commands() const { return commands_; }
  const std::vector<conformance::mismatch>& mismatches() const { return mismatches_; }
  const std::string& mismatch_reason() const { return reason_; }

 private:
  class tap final : public session_tap {
   public:
    tap(collector& c, bool first) : c_(c), first_(first) {}
    void octets(side who, std::string_view bytes) override {
      if (first_) c_.writer_.sent(who, bytes);
    }
    void tls_started() override {
      if (!first_) return;
      c_.writer_.tls();
      c_.tls_ = true;
    }
    void closed(side who) override {
      if (first_) c_.writer_.close(who);
    }
    void finding(const json&, side) override {}
    void ended(std::size_t) override { ++c_.ended_; }

   private:
    collector& c_;
    bool first_;
  };

  std::atomic<std::size_t> opened_{0};
  std::atomic<std::size_t> ended_{0};
  transcript_writer writer_;  // the server's thread only, until it stopped
  std::mutex mu_;
  std::vector<stored_copy> messages_;
  std::vector<sent_command> commands_;
  bool tls_ = false;  // the first session is inside TLS (server thread)
  std::vector<conformance::mismatch> mismatches_;
  std::string reason_;
};

// --- setting a scenario up ------------------------------------------------------------------

/// Why the scenario does not apply to this client, or "" when it does.
std::string not_applicable(const script_meta& m, const std::set<std::string>& flags) {
  for (const auto& c : m.client) {
    const bool negated = c.front() == '!';
    const std::string name = negated ? c.substr(1) : c;
    if (flags.count(name) == (negated ? 1U : 0U))
      return negated ? "for clients not set up with --client-" + name
                     : "needs a client set up for " + name + " (--client-" + name + ")";
  }
  return {};
}

/// Applies one @serve option; false when it is not one.
bool serve_option(std::string_view opt, server_config& cfg, const test_pki* pki) {
  auto number = [&](std::string_view prefix, auto& field) {
    if (opt.substr(0, prefix.size()) != prefix) return false;
    std::uint64_t n = 0;
    for (char ch : opt.substr(prefix.size())) {
      if (ch < '0' || ch > '9' || n > (std::uint64_t{1} << 40)) return false;
      n = n * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    if (opt.size() == prefix.size()) return false;
    field = static_cast<std::remove_reference_t<decltype(field)>>(n);
    return true;
  };
  if (number("size=", cfg.max_size) || number("max-recipients=", cfg.max_recipients)) return true;
  if (opt.substr(0, 16) == "auth-mechanisms=" && opt.size() > 16) {
    cfg.auth_mechanisms.clear();
    for (std::string_view rest = opt.substr(16); !rest.empty();) {
      auto comma = rest.find(',');
      cfg.auth_mechanisms.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return true;
  }
  if (opt == "auth-required") return cfg.auth_required = true;
  if (opt.substr(0, 5) == "cert=") {
    auto which = opt.substr(5);
    if (which != "good" && which != "mismatch" && which != "untrusted") return false;
    if (pki != nullptr) {
      const auto& p = which == "good" ? pki->good : which == "mismatch" ? pki->mismatch : pki->untrusted;
      cfg.tls_cert = p.cert;
      cfg.tls_key = p.key;
    }
    return true;
  }
  if (opt.substr(0, 8) == "hostname" && opt.size() > 9 && opt[8] == '=') {
    cfg.hostname = std::string(opt.substr(9));
    return true;
  }
  if (opt.substr(0, 3) != "no-") return false;
  auto ext = opt.substr(3);
  auto& e = cfg.ext;
  const std::pair<std::string_view, bool*> known[] = {{"pipelining", &e.pipelining},
                                                      {"size", &e.size},
                                                      {"8bitmime", &e.eightbitmime},
                                                      {"smtputf8", &e.smtputf8},
                                                      {"enhancedstatuscodes", &e.enhancedstatuscodes},
                                                      {"dsn", &e.dsn},
                                                      {"chunking", &e.chunking},
                                                      {"binarymime", &e.binarymime},
                                                      {"starttls", &e.starttls},
                                                      {"auth", &e.auth}};
  for (const auto& [name, flag] : known)
    if (ext == name) {
      *flag = false;
      return true;
    }
  return false;
}

// --- one scenario --------------------------------------------------------------------------

using substitutions = std::vector<std::pair<std::string, std::string>>;

struct shared_setup {
  test_pki pki;
  std::string root;
  bool listening = false;  // --listen: every scenario's server binds listen_host:listen_port
  std::string listen_host;
  std::uint16_t listen_port = 0;  // 0 until the first server chose one, when --listen gave 0
};

client_scenario_result base_result(const scenario& sc) {
  client_scenario_result r;
  const auto& m = sc.s.meta;
  r.group = m.group;
  auto& c = r.verdict;
  c.kind = conformance::case_kind::scenario;
  c.id = m.id;
  c.title = m.title;
  c.classname = "smtpkit.probe.client.";
  for (char ch : m.group) c.classname += to_lower_ascii(ch);
  c.file = sc.file;
  c.rfc = sc.rfc;
  c.checks = m.checks;
  c.lvl = sc.level;
  return r;
}

std::string default_message(const scenario& sc, const client_probe_options& o) {
  return "From: <" + o.from + ">\nTo: <" + (o.rcpts.empty() ? std::string() : o.rcpts.front()) +
         ">\nSubject: smtpkit probe client " + sc.s.meta.id + "\nDate: Thu, 01 Jan 2026 00:00:00 +0000\nMessage-ID: <" +
         sc.s.meta.id + "@probe.smtpkit.test>\n\nA test message from smtpkit probe client.\nScenario: " + sc.s.meta.id +
         "\n";
}

/// The scenario's own server: the reference ESMTP server with its @serve
/// options and the test CA's good certificate, storing into `dir`.
server_config scenario_server(const script_meta& m, const client_probe_options& o, const shared_setup& setup,
                              const std::string& dir) {
  server_config cfg;
  cfg.listens.push_back({setup.listening ? setup.listen_host : std::string("127.0.0.1"), setup.listen_port,
                         o.policy_flags.count("implicit-tls") != 0});
  cfg.hostname = o.hostname;
  cfg.maildir = dir + "/maildir";
  cfg.verbosity = 0;
  cfg.check_client = false;  // judged whole from the recording below
  cfg.shutdown_grace = std::chrono::seconds(1);
  cfg.tls_cert = setup.pki.good.cert;
  cfg.tls_key = setup.pki.good.key;
  for (const auto& opt : m.serve) serve_option(opt, cfg, &setup.pki);
  return cfg;
}

/// Starts the client against `port`, waits for it until `deadline` (then
/// kills it) and for the server to see its session end. True when it was
/// killed with its session still open: that close is the probe's doing.
bool drive_client(const client_probe_options& o, const shared_setup& setup, const substitutions& values,
                  std::uint16_t port, const std::string& dir, const std::string& message_file,
                  steady::time_point deadline, const collector& seen, client_run& run) {
  bool killed_open = false;
  substitutions subst = values;
  subst.insert(subst.end(), {{"host", "127.0.0.1"},
                             {"port", std::to_string(port)},
                             {"message", message_file},
                             {"ca", setup.pki.ca},
                             {"user", o.auth.first},
                             {"password", o.auth.second}});
  std::vector<std::string> argv;
  for (const auto& a : o.command) argv.push_back(substitute(a, subst));
  const std::vector<std::pair<std::string, std::string>> env{
      {"SMTP_HOST", "127.0.0.1"},     {"SMTP_PORT", std::to_string(port)},
      {"SMTP_MESSAGE", message_file}, {"SMTP_CA", setup.pki.ca},
      {"SMTP_FROM", o.from},          {"SMTP_RCPT", values[1].second},
      {"SMTP_USER", o.auth.first},    {"SMTP_PASSWORD", o.auth.second}};
  child_process child(argv, env, o.message_on_stdin ? message_file : std::string(), dir + "/client.out",
                      dir + "/client.err");
  run.started = child.started();
  if (child.started() && !child.wait_until(deadline)) {
    killed_open = seen.opened() > seen.ended();  // its close is then ours, not the client's
    child.kill();
  }
  run.exited = child.exited() && !child.killed();
  run.status = child.status();
  run.describe = child.describe();
  // The session ends when the server has seen the close.
  const auto grace = steady::now() + std::chrono::seconds(2);
  while (steady::now() < grace && seen.ended() < seen.opened())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  run.out_tail = read_tail(dir + "/client.out", output_keep);
  run.err_tail = read_tail(dir + "/client.err", output_keep);
  return killed_open;
}

/// How the scenario played, before the findings of its @checks are weighed:
/// a client that could not start or never connected is an error, one that
/// broke an expectation fails, one that did not exit in time is an error.
void settle_played(conformance::report_case& c, const client_run& run, bool listening, bool may_refuse,
                   const std::vector<std::string>& failures, std::chrono::milliseconds timeout) {
  if (may_refuse && !run.connected && run.exited && run.status != 0) {
    // A client that will not send what it was given says so without a server.
    c.played = outcome::pass;
    c.played_reason = "the client refused the message before connecting (" + run.describe + ")";
  } else if (!listening && !run.started) {
    c.played = outcome::error;
    c.played_reason = run.describe;
  } else if (!run.connected) {
    c.played = outcome::error;
    c.played_reason = listening ? "no session arrived within " + std::to_string(timeout.count() / 1000) + " s"
                                : "the client did not connect (" + run.describe + ")";
  } else if (!failures.empty()) {
    c.played = outcome::fail;
    c.played_reason = failures.front();
  } else if (!listening && !run.exited) {
    c.played = outcome::error;
    c.played_reason = "the client did not exit within " + std::to_string(timeout.count() / 1000) + " s";
  } else {
    c.played = outcome::pass;
  }
}

client_scenario_result run_one(const scenario& sc, std::size_t index, const client_probe_options& o,
                               shared_setup& setup) {
  client_scenario_result r = base_result(sc);
  auto& c = r.verdict;
  const auto& m = sc.s.meta;
  const auto started = steady::now();
  if (auto why = not_applicable(m, o.policy_flags); !why.empty()) {
    c.played = outcome::not_applicable;
    c.played_reason = why;
    conformance::settle(c, r.dialogue);
    return r;
  }

  char num[16];
  std::snprintf(num, sizeof num, "%03zu-", index + 1);
  const std::string dir = setup.root + "/" + num + m.id;
  std::error_code ec;
  fs::create_directories(dir + "/maildir", ec);
  // The recipients: the scenario's @rcpt (UTF-8 addresses), else --rcpt.
  const auto& rcpts = m.rcpts.empty() ? o.rcpts : m.rcpts;
  const substitutions values{{"from", o.from},
                             {"rcpt", rcpts.empty() ? std::string() : rcpts.front()},
                             {"rcpt2", rcpts.size() > 1 ? rcpts[1] : (rcpts.empty() ? std::string() : rcpts.front())},
                             {"scenario", m.id}};
  const std::string message = m.has_message ? substitute(m.message, values) : default_message(sc, o);
  const std::string message_file = dir + "/message.eml";
  write_file(message_file, message, false);

  const server_config cfg = scenario_server(m, o, setup, dir);

  auto seen = std::make_shared<collector>();
  bool killed_open = false;
  client_run& run = r.client;
  std::optional<server> srv;
  try {
    srv.emplace(cfg, script_factory({sc.s}));
  } catch (const std::exception& e) {
    c.played = outcome::error;
    c.played_reason = std::string("cannot start the scenario's server: ") + e.what();
    conformance::settle(c, r.dialogue);
    return r;
  }
  srv->watch(seen);
  srv->follow_events(true);
  const auto port = srv->endpoints().front().port;
  if (setup.listening && setup.listen_port == 0) {
    // Port 0: the first server chose one, and the scenarios after it keep it.
    setup.listen_port = port;
    if (o.on_listening) o.on_listening(setup.listen_host + ":" + std::to_string(port));
  }
  std::thread loop([&] { srv->run(); });

  const auto timeout = m.timeout.value_or(o.timeout);
  const auto deadline = steady::now() + timeout;
  if (o.command.empty()) {
    // --listen: this scenario is the next session's.
    while (steady::now() < deadline && (seen->opened() == 0 || seen->ended() < seen->opened()))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    run.describe = seen->opened() == 0 ? "no session" : "session ended";
  } else {
    killed_open = drive_client(o, setup, values, port, dir, message_file, deadline, *seen, run);
  }
  srv->stop();
  loop.join();
  srv.reset();
  run.connected = seen->opened() > 0;

  // The session as it crossed the wire, judged by the client rules.
  std::string text = seen->dialogue();
  if (killed_open) {
    // The connection closed because the probe killed the client: not judged.
    const std::string_view tail = "@close C\n";
    if (auto at = text.rfind(tail); at != std::string::npos) text.erase(at, tail.size());
    c.notes.push_back("the client was killed at the deadline; the close that followed is not judged");
  }
  read_result t;
  if (run.connected) {
    t = read_transcript(text, m.id);
    conformance::engine_options eo;
    eo.judge_server = false;
    if (t.ok()) r.dialogue = conformance::check_transcript(*t.value, eo);
    r.dialogue.source = m.id;
    r.dialogue.transcript = std::move(text);
  }
  for (std::size_t i = 0; i < r.dialogue.findings.size(); ++i)
    if (std::find(m.checks.begin(), m.checks.end(), r.dialogue.findings[i].r().id) != m.checks.end())
      c.findings.push_back(i);

  // The scenario's own expectations.
  c.mismatches = seen->mismatches();
  client_evidence ev{seen->mismatches(),
                     seen->mismatch_reason(),
                     seen->commands(),
                     seen->messages(),
                     t.ok() ? &*t.value : nullptr,
                     &run,
                     o.command.empty(),
                     timeout,
                     message};
  const std::vector<std::string> failures = expectation_failures(m, ev);

  const bool may_refuse = std::find(m.expect.begin(), m.expect.end(), "may-refuse") != m.expect.end();
  settle_played(c, run, o.command.empty(), may_refuse, failures, timeout);
  if (!run.describe.empty() && !o.command.empty()) {
    c.process_status = run.describe;
    c.process_output = run.err_tail.empty() ? run.out_tail : run.err_tail;
  }
  if (seen->opened() > 1)
    c.notes.push_back("the client opened " + std::to_string(seen->opened()) + " sessions; the report shows the first");
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  c.elapsed = r.elapsed;
  conformance::apply(o.policy, r.dialogue);
  conformance::apply(o.policy, c, r.dialogue);
  if (!o.keep) fs::remove_all(dir, ec);
  return r;
}

}  // namespace

suite load_client_suite(const std::vector<std::string>& paths) {
  suite su = load_suite(paths, side::client);
  for (const auto& sc : su.scenarios) {
    server_config scratch;
    for (const auto& opt : sc.s.meta.serve)
      if (!serve_option(opt, scratch, nullptr))
        su.errors.push_back(
            sc.file + ": @serve " + opt +
            ": expected size=N, max-recipients=N, no-KEYWORD, auth-required, cert=good|mismatch|untrusted "
            "or hostname=NAME");
  }
  return su;
}

client_probe_result run_client_probe(const suite& su, const client_probe_options& o) {
  client_probe_result rep;
  const auto started = steady::now();
  if (o.command.empty()) {
    rep.target = "listen " + o.listen;
  } else {
    for (const auto& a : o.command) rep.target += (rep.target.empty() ? "" : " ") + a;
  }
  shared_setup setup;
  std::error_code ec;
  if (!o.work_dir.empty()) {
    setup.root = o.work_dir;
    fs::create_directories(setup.root, ec);
  } else {
    setup.root = make_temp_dir("smtpkit-probe-client");
  }
  if (setup.root.empty() || !fs::is_directory(setup.root, ec)) {
    rep.setup_failed = true;
    rep.setup_error = "cannot make a working folder";
    return rep;
  }
  try {
    setup.pki = write_test_pki(setup.root, o.hostname);
  } catch (const std::exception& e) {
    rep.setup_failed = true;
    rep.setup_error = e.what();
    return rep;
  }
  if (!o.listen.empty()) {
    std::string why;
    setup.listening = true;
    if (!parse_endpoint(o.listen, {"127.0.0.1", true}, setup.listen_host, setup.listen_port, why)) {
      rep.setup_failed = true;
      rep.setup_error = o.listen + ": " + why;
      return rep;
    }
  }

  if (setup.listening && setup.listen_port != 0 && o.on_listening)
    o.on_listening(setup.listen_host + ":" + std::to_string(setup.listen_port));
  std::vector<const scenario*> chosen;
  for (const auto& sc : su.scenarios)
    if (selected(sc, o.only)) chosen.push_back(&sc);
  std::vector<std::optional<client_scenario_result>> results(chosen.size());
  std::mutex mu;
  auto finish = [&](std::size_t k, client_scenario_result r) {
    std::lock_guard<std::mutex> lock(mu);
    results[k] = std::move(r);
    if (o.on_result) o.on_result(*results[k]);
  };
  if (!o.listen.empty()) {
    // One address: the scenarios take the sessions in turn.
    std::size_t sessions = 0;
    bool starved = false;
    for (std::size_t k = 0; k < chosen.size(); ++k) {
      if (starved || (o.sessions != 0 && sessions >= o.sessions)) {
        // Not played: after --sessions it was asked for; after a scenario
        // that waited in vain, the application has stopped sending.
        client_scenario_result r = base_result(*chosen[k]);
        r.verdict.played = starved ? outcome::error : outcome::not_applicable;
        r.verdict.played_reason = starved ? "no session: the scenario before got none either"
                                          : "no session: --sessions " + std::to_string(o.sessions) + " reached";
        conformance::settle(r.verdict, r.dialogue);
        finish(k, std::move(r));
        continue;
      }
      client_scenario_result r = run_one(*chosen[k], k, o, setup);
      if (r.client.connected) ++sessions;
      else if (r.verdict.played == outcome::error) starved = true;
      finish(k, std::move(r));
    }
  } else {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (std::size_t k = next++; k < chosen.size(); k = next++) finish(k, run_one(*chosen[k], k, o, setup));
    };
    std::vector<std::thread> pool;
    const std::size_t n = std::clamp<std::size_t>(o.jobs, 1, 16);
    for (std::size_t i = 1; i < n && i < chosen.size(); ++i) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
  }
  for (auto& r : results) rep.results.push_back(std::move(*r));
  if (!o.keep && o.work_dir.empty()) fs::remove_all(setup.root, ec);
  rep.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  return rep;
}

}  // namespace smtpkit::mock
