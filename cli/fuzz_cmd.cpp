// cli/fuzz_cmd.cpp — `smtpkit fuzz server` and `smtpkit fuzz client`:
// black-box fuzzing of an SMTP server (over TCP, TLS or a command's
// stdin/stdout) and of an SMTP client (started against a mock server that
// bends its replies), with the conformance engine as an oracle (fuzz/blackbox,
// docs/fuzzing.md). Exit: 0 nothing at --fail-on, 1 findings, 2 usage
// error, no seeds, or a target that never answered (a client that never
// connected).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "report_io.hpp"
#include "smtpkit/fuzz/client_fuzz.hpp"
#include "smtpkit/fuzz/server_fuzz.hpp"
#include "verbs.hpp"

namespace smtpkit::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_interrupt(int) { g_stop.store(true); }

// What both fuzzers take: bounds, workers, seed, output, minimisation, report.
struct run_args {
  double max_time = 0;
  std::uint64_t max_sessions = 0;
  unsigned jobs = 1;
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string out = "fuzz-out";
  double hang_timeout = 3;
  double minimise_time = 60;
  bool no_minimise = false;
  std::string progress = "auto";
  report_flags report;
};

void add_run_options(CLI::App* sub, const std::shared_ptr<run_args>& a, const char* jobs_help, unsigned max_jobs) {
  sub->add_option("--max-time", a->max_time, "Stop after S seconds (0: until Ctrl-C)")->capture_default_str();
  sub->add_option("--max-sessions", a->max_sessions, "Stop after N sessions (0: no limit)")->capture_default_str();
  sub->add_option("--jobs,-j", a->jobs, jobs_help)->capture_default_str()->check(CLI::Range(1u, max_jobs));
  sub->add_option_function<std::uint64_t>(
      "--seed", [a](std::uint64_t v) { a->seed = v, a->seed_given = true; }, "Random seed (default: from the clock)");
  sub->add_option("--out", a->out, "Folder for corpus/, crashes/, hangs/, violations/, stats.json")
      ->capture_default_str();
  sub->add_option("--minimise-time", a->minimise_time, "Seconds spent minimising each finding")->capture_default_str();
  sub->add_flag("--no-minimise", a->no_minimise, "Write findings as found");
  sub->add_option("--progress", a->progress, "A status line on stderr each second")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  add_report_flags(sub, a->report, /*fuzz=*/true);
}

// The run options as both fuzzers' option structs spell them.
template <class Options>
void apply_run(const run_args& a, Options& o) {
  o.out_dir = a.out;
  o.seed =
      a.seed_given ? a.seed : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  o.max_time = std::chrono::seconds(static_cast<long long>(a.max_time));
  o.max_sessions = a.max_sessions;
  o.jobs = a.jobs;
  o.minimise = !a.no_minimise;
  o.minimise_time = std::chrono::seconds(static_cast<long long>(a.minimise_time));
  o.progress = a.progress == "always" || (a.progress == "auto" && ::isatty(2) == 1);
  o.stop = &g_stop;
}

struct fuzz_server_args : run_args {
  std::string target;
  std::string exec;
  bool starttls = false;
  bool tls = false;
  bool insecure = false;
  std::string tls_name;
  std::string restart;
  std::vector<std::string> seeds;
  std::string mutator = "grammar";
  double timeout = 1;
};

void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

int run_fuzz_server(const fuzz_server_args& a) {
  const std::string tool = "smtpkit fuzz server";
  fuzz::fuzz_options o;
  if (!a.exec.empty()) {
    o.session.target.command = a.exec;
  } else if (std::string why; !mock::parse_target(a.target, o.session.target, &why)) {
    std::cerr << tool << ": " << a.target << ": " << why << "\n";
    return exit_usage;
  }
  if (!a.restart.empty() && !a.exec.empty()) {
    std::cerr << tool << ": --restart is for a TCP target; --exec starts a new command each session\n";
    return exit_usage;
  }
  o.session.target.implicit_tls = a.tls;
  o.session.target.insecure = a.insecure;
  o.session.target.tls_name = a.tls_name;
  o.session.starttls = a.starttls;
  o.session.reply_timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  o.session.hang_timeout = std::chrono::milliseconds(static_cast<long long>(a.hang_timeout * 1000));
  fuzz::fail_level_from_string(a.report.fail_on, o.session.fail_on);
  o.seeds = a.seeds;
  if (o.seeds.empty()) {
    for (const auto& [src, inst] :
         {std::pair{"corpus/dialogues", "dialogues"}, std::pair{"conformance/server", "server"}})
      if (auto d = builtin_data(src, inst); !d.empty()) o.seeds.push_back(d);
    if (o.seeds.empty()) {
      std::cerr << tool << ": no built-in seeds found (corpus/dialogues, conformance/server); give --seeds\n";
      return exit_usage;
    }
  }
  apply_run(a, o);
  o.mutator = a.mutator == "bytes" ? fuzz::mutator_kind::bytes : fuzz::mutator_kind::grammar;
  o.restart = a.restart;

  stop_on_signals();
  if (o.progress)
    std::cerr << tool << ": " << o.session.target.describe() << ", mutator " << a.mutator << ", seed " << o.seed
              << ", out " << o.out_dir << "\n";
  std::string error;
  fuzz::fuzz_stats s = fuzz::fuzz_server(o, error);
  if (!error.empty()) {
    std::cerr << tool << ": " << error << "\n";
    return exit_usage;
  }
  conformance::report rep = fuzz::fuzz_report(s, fuzz::describe_run(o));
  if (!emit_report(a.report, rep)) return exit_usage;
  if (s.sessions == s.errors && s.errors > 0) {
    std::cerr << tool << ": " << o.session.target.describe() << ": no session could be made (" << s.stopped_by << ")\n";
    return exit_usage;
  }
  return s.findings.empty() ? exit_ok : exit_violations;
}

struct fuzz_client_args : run_args {
  std::vector<std::string> command;
  bool stdin_message = false;
  bool implicit_tls = false;
  std::string from = "sender@example.test";
  std::vector<std::string> rcpt{"rcpt@example.test", "rcpt2@example.test"};
  std::string credentials;
  double session_timeout = 20;
};

int run_fuzz_client(const fuzz_client_args& a) {
  const std::string tool = "smtpkit fuzz client";
  fuzz::client_fuzz_options o;
  o.client.command = a.command;
  o.client.message_on_stdin = a.stdin_message;
  o.client.implicit_tls = a.implicit_tls;
  o.client.from = a.from;
  o.client.rcpt = a.rcpt.front();
  o.client.rcpt2 = a.rcpt.size() > 1 ? a.rcpt[1] : a.rcpt.front();
  if (!a.credentials.empty()) {
    const auto colon = a.credentials.find(':');
    if (colon == std::string::npos) {
      std::cerr << tool << ": --client-auth wants USER:PASSWORD\n";
      return exit_usage;
    }
    o.client.auth = {a.credentials.substr(0, colon), a.credentials.substr(colon + 1)};
  }
  o.client.hang_timeout = std::chrono::milliseconds(static_cast<long long>(a.hang_timeout * 1000));
  o.client.session_timeout = std::chrono::milliseconds(static_cast<long long>(a.session_timeout * 1000));
  fuzz::fail_level_from_string(a.report.fail_on, o.client.fail_on);
  apply_run(a, o);
  stop_on_signals();
  const fuzz::run_info info = fuzz::describe_run(o);
  if (o.progress) std::cerr << tool << ": " << info.target << ", seed " << o.seed << ", out " << o.out_dir << "\n";
  std::string error;
  fuzz::fuzz_stats s = fuzz::fuzz_client(o, error);
  if (!error.empty()) {
    std::cerr << tool << ": " << error << "\n";
    return exit_usage;
  }
  for (const auto& b : s.baseline)
    std::cerr << tool << ": on unmutated replies already (not counted; see smtpkit probe client): " << b << "\n";
  conformance::report rep = fuzz::fuzz_report(s, info);
  if (!emit_report(a.report, rep)) return exit_usage;
  return s.findings.empty() ? exit_ok : exit_violations;
}

void add_fuzz_client(CLI::App* fuzz, runner& run) {
  auto a = std::make_shared<fuzz_client_args>();
  auto* sub = fuzz->add_subcommand("client", "Fuzz an SMTP client: a mock server answers it with bent replies");
  sub->footer(
      "Starts the client once per session (never through a shell) against a mock server whose replies\n"
      "are mutated: multi-line replies cut, stretched and interleaved, codes at the edges, enhanced\n"
      "status codes broken, EHLO keyword lists huge and malformed, octets injected after the 220 to\n"
      "STARTTLS, the greeting late or an octet at a time, the connection closed at any step. The\n"
      "reference server answers everything else, so the client goes deep. Oracles: the client crashes\n"
      "(a signal or a sanitizer report), hangs (sends, closes and exits nothing although every command\n"
      "was answered, or keeps running after its connection closed), or breaks the protocol after a\n"
      "bent reply (mail data without a 354, commands after QUIT, acting on injected replies...).\n"
      "In the client's arguments (and environment): {host} {port} {message} {ca} {from} {rcpt} {rcpt2}\n"
      "{user} {password}, as for `smtpkit probe client`.\n"
      "Example: smtpkit fuzz client --max-time 300 -- curl -sS smtp://{host}:{port} --mail-from {from}\n"
      "           --mail-rcpt {rcpt} -T {message}\n"
      "Each finding is written as a server script (OUT/crashes/, OUT/hangs/, OUT/violations/) that\n"
      "`smtpkit serve --script FILE` plays to the client again. Ctrl-C stops and keeps what it found.\n"
      "Exit: 0 nothing found at --fail-on, 1 findings, 2 usage error or a client that never connected.");
  sub->add_option("command", a->command, "The client and its arguments, after --")->allow_extra_args(true);
  sub->add_flag("--stdin", a->stdin_message, "Give the client the message on its standard input (sendmail-like)");
  sub->add_flag("--client-implicit-tls", a->implicit_tls, "The client speaks TLS from the first octet (RFC 8314)");
  sub->add_option("--client-auth", a->credentials, "Credentials for {user} and {password} (USER:PASSWORD)");
  sub->add_option("--from", a->from, "The sender the client is given ({from})")->capture_default_str();
  sub->add_option("--rcpt", a->rcpt,
                  "Recipients the client is given ({rcpt}, {rcpt2}; default rcpt@example.test, "
                  "rcpt2@example.test)")
      ->expected(1, 2)
      ->allow_extra_args(false);
  add_run_options(sub, a, "Clients run at once, each with its own server", 64);
  sub->add_option("--hang-timeout", a->hang_timeout,
                  "Seconds of silence from the client, every command answered, before it is a hang")
      ->capture_default_str();
  sub->add_option("--session-timeout", a->session_timeout, "Seconds one client run may take (then it is killed)")
      ->capture_default_str();
  sub->callback([a, &run] {
    if (a->command.empty()) throw CLI::ValidationError("COMMAND", "give the client after --");
    run = [a] { return run_fuzz_client(*a); };
  });
}

}  // namespace

void add_fuzz(CLI::App& app, runner& run) {
  auto* fuzz = app.add_subcommand("fuzz", "Fuzz an SMTP server or client; findings become reproducible dialogues");
  fuzz->require_subcommand(1, 1);
  auto a = std::make_shared<fuzz_server_args>();
  auto* sub = fuzz->add_subcommand("server", "Fuzz a live SMTP server (TCP, TLS, or a command on stdin/stdout)");
  sub->footer(
      "Mutates the client side of seed dialogues (grammar-aware by default), plays each against the\n"
      "server and judges what comes back: crashes (a signal or a sanitizer report; over TCP, a server\n"
      "that stops answering), hangs (an owed reply that never comes) and the server's protocol\n"
      "violations (the conformance engine, `smtpkit rules`). Inputs that reach a new state (a reply\n"
      "code in a session state) join the corpus. Each finding is minimised and written to\n"
      "OUT/crashes/, OUT/hangs/ or OUT/violations/ as a transcript that `smtpkit replay` plays again.\n"
      "Ctrl-C stops the run and keeps what it found.\n"
      "Exit: 0 nothing found at --fail-on, 1 findings, 2 usage error or no session possible.");
  auto* t = sub->add_option("target", a->target, "Server HOST:PORT");
  auto* e = sub->add_option("--exec", a->exec, "Command speaking SMTP on stdin/stdout, one per session ('exim -bs')");
  t->excludes(e);
  e->excludes(t);
  auto* st = sub->add_flag("--starttls", a->starttls, "EHLO and STARTTLS (RFC 3207) before every dialogue");
  auto* tl = sub->add_flag("--tls", a->tls, "TLS from the first octet (implicit TLS, RFC 8314)");
  st->excludes(tl);
  sub->add_flag("--insecure", a->insecure, "Accept any TLS certificate (self-signed test servers)");
  sub->add_option("--tls-name", a->tls_name, "Name checked in the server's certificate and sent as SNI");
  sub->add_option("--restart", a->restart,
                  "TCP: shell command run when the server stopped answering; it must return once the server "
                  "is started (start it in the background)");
  sub->add_option("--seeds", a->seeds,
                  "Transcripts or folders of them (default: corpus/dialogues and conformance/server)");
  add_run_options(sub, a, "Workers sharing one corpus", 256);
  sub->add_option("--mutator", a->mutator, "grammar (structure-aware) or bytes (byte-level only, the baseline)")
      ->check(CLI::IsMember({"grammar", "bytes"}))
      ->capture_default_str();
  sub->add_option("--timeout", a->timeout, "Seconds to wait for each owed reply")->capture_default_str();
  sub->add_option("--hang-timeout", a->hang_timeout,
                  "Seconds after the end of a dialogue before an owed reply makes a hang")
      ->capture_default_str();
  sub->callback([a, &run] {
    if (a->target.empty() && a->exec.empty()) throw CLI::ValidationError("target", "give HOST:PORT or --exec COMMAND");
    run = [a] { return run_fuzz_server(*a); };
  });
  add_fuzz_client(fuzz, run);
}

}  // namespace smtpkit::cli
