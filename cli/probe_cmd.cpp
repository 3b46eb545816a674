// cli/probe_cmd.cpp — `smtpkit probe server TARGET`: run the scenario
// suite (conformance/server/ and --suite folders) against an SMTP server
// and report a verdict per scenario (smtpkit/mock/probe/probe.hpp);
// `smtpkit probe client -- CMD...`: serve conformance/client/ to a client
// (smtpkit/mock/probe/client_probe.hpp).
// Exit: 0 no failure at or above --fail-on, 1 failures or scenario errors,
// 2 usage error, a suite that does not load, or a target that cannot be reached.
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <iostream>

#include "report_io.hpp"
#include "smtpkit/mock/probe/client_probe.hpp"
#include "smtpkit/mock/probe/probe.hpp"
#include "smtpkit/mock/probe/relay_probe.hpp"
#include "verbs.hpp"

#ifndef SMTPKIT_SOURCE_DIR
#define SMTPKIT_SOURCE_DIR "."
#endif
#ifndef SMTPKIT_DATA_DIR
#define SMTPKIT_DATA_DIR "share/smtpkit"
#endif

namespace smtpkit::cli {

std::string builtin_data(const std::string& source_rel, const std::string& installed_rel) {
  namespace fs = std::filesystem;
  for (const std::string& d :
       {std::string(SMTPKIT_SOURCE_DIR) + "/" + source_rel, std::string(SMTPKIT_DATA_DIR) + "/" + installed_rel}) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    // Reports name files below it: relative to here when they are below it.
    auto rel = fs::proximate(d, ec);
    return !ec && !rel.empty() && rel.string().rfind("..", 0) != 0 ? rel.string() : d;
  }
  return {};
}

namespace {

struct probe_args {
  std::string target;
  std::vector<std::string> suites;
  bool no_builtin = false;
  std::vector<std::string> only;
  bool starttls = false;
  bool tls = false;
  bool insecure = false;
  std::string exec;
  std::string helo = "probe.example.test";
  std::string from = "probe@example.test";
  std::vector<std::string> rcpts;
  std::vector<std::string> relay_domains;
  std::string auth;
  std::string tls_name;
  double timeout = 5;
  double scenario_timeout = 30;
  std::size_t jobs = 4;
  bool progress = false;
  bool list = false;
  report_flags report;
};

// The built-in suite: next to the sources in a build tree, or installed.
std::string builtin_suite(const char* which = "server") {
  return builtin_data(std::string("conformance/") + which, which);
}

// The suite a probe verb runs: the built-in one (conformance/WHICH, unless
// --no-builtin) and the --suite folders, loaded and checked. nullopt, with
// the exit status in `status`, when the verb is done: a suite that does not
// load, --only matching nothing, or --list printed.
std::optional<mock::suite> prepare_suite(const std::string& tool, const char* which, bool no_builtin,
                                         const std::vector<std::string>& suites, const std::vector<std::string>& only,
                                         bool list, int& status) {
  status = exit_usage;
  std::vector<std::string> paths;
  if (!no_builtin) {
    std::string b = builtin_suite(which);
    if (b.empty()) {
      std::cerr << tool << ": the built-in suite (conformance/" << which << ") is not found; name one with --suite\n";
      return std::nullopt;
    }
    paths.push_back(b);
  }
  paths.insert(paths.end(), suites.begin(), suites.end());
  if (paths.empty()) {
    std::cerr << tool << ": no suite: --no-builtin needs --suite DIR\n";
    return std::nullopt;
  }
  mock::suite su = std::string_view(which) == "client" ? mock::load_client_suite(paths) : mock::load_suite(paths);
  if (!su.errors.empty()) {
    for (const auto& e : su.errors) std::cerr << e << "\n";
    return std::nullopt;
  }
  std::size_t chosen = 0;
  for (const auto& sc : su.scenarios) chosen += mock::selected(sc, only) ? 1 : 0;
  if (chosen == 0) {
    std::cerr << tool << ": --only matches no scenario (groups and IDs: `" << tool << " --list`)\n";
    return std::nullopt;
  }
  if (list) {
    for (const auto& sc : su.scenarios)
      if (mock::selected(sc, only))
        std::cout << sc.s.meta.group << "\t" << sc.s.meta.id << "\t" << to_string(sc.level) << "\t" << sc.s.meta.title
                  << "\n";
    status = exit_ok;
    return std::nullopt;
  }
  status = exit_ok;
  return su;
}

// USER:PASSWORD of --auth or --client-auth; false (said on stderr) when malformed.
bool credentials(const std::string& tool, const char* flag, const std::string& text,
                 std::pair<std::string, std::string>& out) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    std::cerr << tool << ": " << flag << " " << text << ": expected USER:PASSWORD\n";
    return false;
  }
  out = {text.substr(0, colon), text.substr(colon + 1)};
  return true;
}

// --progress: each scenario's verdict on stderr as it ends.
void progress(const conformance::report_case& c) { std::cerr << "  " << to_string(c.result) << "  " << c.id << "\n"; }

// Writes the report; the exit status: 2 when it could not be written or the
// run could not start (`where` prefixes the reason), 1 on failures.
int finish(const std::string& tool, const report_flags& flags, const conformance::policy& policy,
           conformance::report rep, const std::string& where) {
  rep.policy_file = policy.file;
  if (!emit_report(flags, rep)) return exit_usage;
  if (rep.target.unreachable) {
    std::cerr << tool << ": " << where << rep.target.unreachable_reason << "\n";
    return exit_usage;
  }
  return conformance::failed(rep, fail_level(flags)) ? exit_violations : exit_ok;
}

int run_probe(probe_args& a) {
  const std::string tool = "smtpkit probe server";
  mock::probe_options o;
  if (!a.exec.empty()) {
    o.base.target.command = a.exec;
  } else if (std::string why; !a.list && !mock::parse_target(a.target, o.base.target, &why)) {
    std::cerr << tool << ": " << (a.target.empty() ? std::string("no target") : a.target) << ": " << why
              << " (or --exec COMMAND)\n";
    return exit_usage;
  }
  if (!load_policy(a.report.policy, tool, o.policy)) return exit_usage;
  if (a.starttls && a.tls) {
    std::cerr << tool << ": --starttls and --tls exclude each other\n";
    return exit_usage;
  }
  o.base.target.implicit_tls = a.tls;
  o.base.target.insecure = a.insecure;
  o.base.target.tls_name = a.tls_name;
  o.base.starttls_first = a.starttls;
  o.base.helo = a.helo;
  o.base.step_timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  o.base.session_timeout = std::chrono::milliseconds(static_cast<long long>(a.scenario_timeout * 1000));
  o.from = a.from;
  if (!a.rcpts.empty()) o.rcpts = a.rcpts;
  if (!a.relay_domains.empty()) o.relay_domains = a.relay_domains;
  if (!a.auth.empty()) {
    std::pair<std::string, std::string> up;
    if (!credentials(tool, "--auth", a.auth, up)) return exit_usage;
    o.auth = std::move(up);
  }
  o.only = a.only;
  o.jobs = a.jobs == 0 ? 1 : a.jobs;

  int status = exit_ok;
  auto su = prepare_suite(tool, "server", a.no_builtin, a.suites, o.only, a.list, status);
  if (!su) return status;
  if (a.progress) o.on_result = [](const mock::scenario_result& r) { progress(r.verdict); };
  conformance::report rep = mock::make_report(mock::run_probe(*su, o), tool);
  const std::string where = rep.target.name + ": ";
  return finish(tool, a.report, o.policy, std::move(rep), where);
}

struct client_args {
  std::vector<std::string> command;
  bool stdin_message = false;
  std::string listen;
  std::size_t sessions = 0;
  std::vector<std::string> suites;
  bool no_builtin = false;
  std::vector<std::string> only;
  bool requires_tls = false;
  bool implicit_tls = false;
  bool verifies_cert = false;
  bool auth = false;
  std::string credentials;
  std::string from = "sender@example.test";
  std::vector<std::string> rcpts;
  double timeout = 20;
  std::size_t jobs = 2;
  std::string keep;
  bool progress = false;
  bool list = false;
  report_flags report;
};

int run_client_probe(client_args& a) {
  const std::string tool = "smtpkit probe client";
  mock::client_probe_options o;
  if (!load_policy(a.report.policy, tool, o.policy)) return exit_usage;
  o.command = a.command;
  o.message_on_stdin = a.stdin_message;
  o.listen = a.listen;
  o.sessions = a.sessions;
  if (a.requires_tls) o.policy_flags.insert("requires-tls");
  if (a.implicit_tls) o.policy_flags.insert("implicit-tls");
  if (a.verifies_cert) o.policy_flags.insert("verifies-cert");
  if (a.auth || !a.credentials.empty()) o.policy_flags.insert("auth");
  if (!a.credentials.empty() && !credentials(tool, "--client-auth", a.credentials, o.auth)) return exit_usage;
  o.from = a.from;
  if (!a.rcpts.empty()) o.rcpts = a.rcpts;
  o.only = a.only;
  o.timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  o.jobs = a.jobs == 0 ? 1 : a.jobs;
  o.work_dir = a.keep;
  o.keep = !a.keep.empty();

  int status = exit_ok;
  auto su = prepare_suite(tool, "client", a.no_builtin, a.suites, o.only, a.list, status);
  if (!su) return status;
  if (a.progress) o.on_result = [](const mock::client_scenario_result& r) { progress(r.verdict); };
  o.on_listening = [tool](const std::string& where) {
    std::cerr << tool << ": waiting for sessions on " << where << "\n" << std::flush;
  };
  conformance::report rep = mock::make_report(mock::run_client_probe(*su, o), tool);
  return finish(tool, a.report, o.policy, std::move(rep), "");
}

void add_probe_client(CLI::App* probe, runner& run) {
  auto a = std::make_shared<client_args>();
  auto* sub = probe->add_subcommand("client", "Serve the client suite (conformance/client/) to an SMTP client");
  sub->footer(
      "The client is started once per scenario (never through a shell) against a mock server of the\n"
      "scenario's own, with these replaced in its arguments (and set in its environment):\n"
      "  {host} {port}   where to connect (SMTP_HOST, SMTP_PORT)\n"
      "  {message}       a file with the message to send; the scenario writes it (SMTP_MESSAGE)\n"
      "  {ca}            the CA certificate (PEM) the servers' certificates are signed with (SMTP_CA)\n"
      "  {from} {rcpt} {rcpt2}   envelope addresses (SMTP_FROM, SMTP_RCPT)\n"
      "  {user} {password}       credentials, with --client-auth (SMTP_USER, SMTP_PASSWORD)\n"
      "Example: smtpkit probe client --stdin --client-verifies-cert -- msmtp --host={host} --port={port}\n"
      "           --tls=on --tls-starttls=on --tls-trust-file={ca} --from={from} {rcpt} {rcpt2}\n"
      "\n"
      "--listen instead waits for sessions from an application that sends mail when something happens,\n"
      "giving each session the next scenario.\n"
      "\n"
      "Say how the client is set up, so the scenarios that depend on it apply: --client-requires-tls,\n"
      "--client-implicit-tls, --client-verifies-cert, --client-auth USER:PASSWORD.\n"
      "\n"
      "Verdicts per scenario: pass, fail (with the RFC level of what failed), not applicable, error (the\n"
      "client did not start, connect or exit in time). Exit: 0 no failure at or above --fail-on,\n"
      "1 failures or errors, 2 usage error or a suite that does not load.");
  sub->add_option("command", a->command, "The client and its arguments, after --")->allow_extra_args(true);
  sub->add_flag("--stdin", a->stdin_message,
                "Give the client the message on its standard input too (sendmail-like clients: msmtp, s-nail)");
  sub->add_option("--listen", a->listen, "Wait for sessions on HOST:PORT instead of starting a client");
  sub->add_option("--sessions", a->sessions, "With --listen: stop after N sessions");
  sub->add_option("--suite", a->suites, "Another folder (or file) of client scenarios (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--no-builtin", a->no_builtin, "Run only the --suite scenarios, not conformance/client/");
  sub->add_option("--only", a->only, "Only this group or scenario ID, or an ID prefix (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--client-requires-tls", a->requires_tls, "The client is set up to refuse sending without TLS");
  sub->add_flag("--client-implicit-tls", a->implicit_tls, "The client speaks TLS from the first octet (RFC 8314)");
  sub->add_flag("--client-verifies-cert", a->verifies_cert,
                "The client checks the server's certificate against {ca} and the host name");
  sub->add_option("--client-auth", a->credentials, "The client authenticates with USER:PASSWORD ({user}, {password})");
  sub->add_option("--from", a->from, "The sender the client is given ({from})")->capture_default_str();
  sub->add_option("--rcpt", a->rcpts,
                  "Recipients the client is given ({rcpt}, {rcpt2}; default rcpt@example.test, "
                  "rcpt2@example.test)")
      ->allow_extra_args(false);
  sub->add_option("--timeout", a->timeout, "Seconds one scenario may take")->capture_default_str();
  sub->add_option("--jobs,-j", a->jobs, "Scenarios at once, each with its own server")->capture_default_str();
  sub->add_option("--keep", a->keep, "Keep each scenario's folder (message, client output, Maildir) under DIR");
  sub->add_flag("--progress", a->progress, "Print each scenario's verdict on stderr as it ends");
  sub->add_flag("--list", a->list, "List the scenarios (group, ID, level, title) and exit");
  add_report_flags(sub, a->report);
  sub->callback([a, &run] {
    if (a->command.empty() && a->listen.empty() && !a->list)
      throw CLI::ValidationError("COMMAND", "give the client after -- (or --listen HOST:PORT)");
    if (!a->command.empty() && !a->listen.empty())
      throw CLI::ValidationError("--listen", "give either a client command or --listen");
    run = [a] { return run_client_probe(*a); };
  });
}

struct relay_args {
  std::string submit;
  bool starttls = false;
  bool tls = false;
  bool insecure = false;
  std::string auth;
  std::string domain = "sink.test";
  std::string sink_listen = "127.0.0.1:0";
  std::string sink_hostname = "sink.probe.smtpkit.test";
  std::string sender;
  std::string helo = "probe.example.test";
  std::vector<std::string> only;
  double wait = 30;
  double retry_wait = 90;
  double timeout = 30;
  std::vector<std::string> inbound;
  bool progress = false;
  bool list = false;
  report_flags report;
};

// --inbound [NAME=]FILE|HOST:PORT: a `probe server` JSON report of a next
// hop, or the next hop itself (its end-of-data scenarios are run now).
bool load_inbound(const std::string& tool, std::string inbound, mock::relay_probe_options& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string why;
  mock::relay_probe_options::inbound_results in;
  if (auto eq = inbound.find('='); eq != std::string::npos && eq > 0) {
    in.name = inbound.substr(0, eq);
    inbound.erase(0, eq + 1);
  }
  if (fs::is_regular_file(inbound, ec)) {
    if (!mock::read_inbound_report(inbound, in.eod, why)) {
      std::cerr << tool << ": --inbound " << why << "\n";
      return false;
    }
    if (in.name.empty()) in.name = fs::path(inbound).stem().string();
    o.inbound.push_back(std::move(in));
    return true;
  }
  mock::probe_options po;
  if (!mock::parse_target(inbound, po.base.target, &why)) {
    std::cerr << tool << ": --inbound " << inbound << ": neither a report file nor HOST:PORT (" << why << ")\n";
    return false;
  }
  int status = exit_ok;
  po.only = {"security.smuggling"};
  auto su = prepare_suite(tool, "server", false, {}, po.only, false, status);
  if (!su) return false;
  conformance::report rep = mock::make_report(mock::run_probe(*su, po), "smtpkit probe server");
  if (rep.target.unreachable) {
    std::cerr << tool << ": --inbound " << inbound << ": " << rep.target.unreachable_reason << "\n";
    return false;
  }
  for (const auto& suite : rep.suites)
    for (const auto& c : suite.cases)
      if (c.eod) in.eod.emplace_back(c.eod->variant, c.eod->result);
  if (in.name.empty()) in.name = inbound;
  o.inbound.push_back(std::move(in));
  return true;
}

int run_relay_probe(relay_args& a) {
  const std::string tool = "smtpkit probe relay";
  if (a.list) {
    for (const auto& c : mock::relay_checks())
      std::cout << c.group << "\t" << c.id << "\t" << to_string(c.lvl) << "\t" << c.title << "\n";
    return exit_ok;
  }
  mock::relay_probe_options o;
  if (!load_policy(a.report.policy, tool, o.policy)) return exit_usage;
  if (std::string why; !mock::parse_target(a.submit, o.submit, &why)) {
    std::cerr << tool << ": --submit " << a.submit << ": " << why << "\n";
    return exit_usage;
  }
  if (a.starttls && a.tls) {
    std::cerr << tool << ": --starttls and --tls exclude each other\n";
    return exit_usage;
  }
  o.submit.implicit_tls = a.tls;
  o.submit.insecure = a.insecure;
  o.starttls = a.starttls;
  if (!a.auth.empty()) {
    std::pair<std::string, std::string> up;
    if (!credentials(tool, "--auth", a.auth, up)) return exit_usage;
    o.user = std::move(up.first);
    o.password = std::move(up.second);
  }
  o.domain = a.domain;
  o.sink_listen = a.sink_listen;
  o.sink_hostname = a.sink_hostname;
  o.sender = a.sender;
  o.helo = a.helo;
  o.only = a.only;
  if (!o.only.empty()) {
    bool any = false;
    for (const auto& c : mock::relay_checks())
      for (const auto& x : o.only) any = any || c.id == x || c.id.rfind(x + ".", 0) == 0 || c.group == x;
    if (!any) {
      std::cerr << tool << ": --only matches no check (`" << tool << " --list`)\n";
      return exit_usage;
    }
  }
  auto ms = [](double s) { return std::chrono::milliseconds(static_cast<long long>(s * 1000)); };
  o.wait = ms(a.wait);
  o.retry_wait = ms(a.retry_wait);
  o.step_timeout = ms(a.timeout);
  for (const auto& in : a.inbound)
    if (!load_inbound(tool, in, o)) return exit_usage;
  o.on_sink = [tool](const std::string& where) {
    std::cerr << tool << ": the sink listens on " << where << "\n" << std::flush;
  };
  if (a.progress) o.on_result = [](const conformance::report_case& c) { progress(c); };
  conformance::report rep = mock::run_relay_probe(o, tool);
  return finish(tool, a.report, o.policy, std::move(rep), "");
}

void add_probe_relay(CLI::App* probe, runner& run) {
  auto a = std::make_shared<relay_args>();
  auto* sub = probe->add_subcommand("relay", "Probe a relay: submit test messages, judge what reaches the sink");
  sub->footer(
      "Set the relay up to send mail for --domain (default sink.test) to the sink (--sink-listen; port 0\n"
      "picks one and prints it: then the relay must be told after the probe starts, so give a port).\n"
      "The probe submits one message per check to --submit, from --sender (default relay-probe@DOMAIN,\n"
      "so notifications come back to the sink), and judges what arrives: end-of-data variants (passed\n"
      "on raw = SMTP smuggling on the way out), transparency, 8BITMIME/SMTPUTF8/BINARYMIME, the envelope\n"
      "and DSN parameters, Received lines, notifications for 5xx, retries of 4xx, loops, and the\n"
      "relay's own SMTP as a client of the sink. The sink first offers every extension, then none of\n"
      "the 8-bit ones (checks of a 7-bit next hop).\n"
      "\n"
      "--inbound [NAME=]FILE (a `probe server --format json` report of a next hop) or HOST:PORT (its\n"
      "end-of-data scenarios are run now) adds the smuggling pairs: variants this relay passes on that\n"
      "that hop takes as the end of the data (repeatable: one set of pairs per inbound hop).\n"
      "\n"
      "Verdicts per check: pass, fail (with its RFC level), not applicable (the relay does not offer\n"
      "what the check needs), error (nothing arrived in time). Exit: 0 no failure at or above\n"
      "--fail-on, 1 failures or errors, 2 usage error or a relay or sink that cannot be reached.");
  sub->add_option("--submit", a->submit, "The relay under test, HOST:PORT");
  sub->add_flag("--starttls", a->starttls, "STARTTLS before each submission");
  sub->add_flag("--tls", a->tls, "TLS from the first octet (implicit TLS, RFC 8314)");
  sub->add_flag("--insecure", a->insecure, "Accept any TLS certificate from the relay");
  sub->add_option("--auth", a->auth, "USER:PASSWORD for AUTH PLAIN on each submission");
  sub->add_option("--domain", a->domain, "The domain the relay sends to the sink")->capture_default_str();
  sub->add_option("--sink-listen", a->sink_listen, "HOST:PORT of the sink")->capture_default_str();
  sub->add_option("--sink-hostname", a->sink_hostname, "The sink's name in its greeting")->capture_default_str();
  sub->add_option("--sender", a->sender, "Reverse-path of the test messages (default relay-probe@DOMAIN)");
  sub->add_option("--helo", a->helo, "Name given in EHLO to the relay")->capture_default_str();
  sub->add_option("--only", a->only, "Only this check, group or ID prefix (repeatable)")->allow_extra_args(false);
  sub->add_option("--wait", a->wait, "Seconds a message may take to reach the sink")->capture_default_str();
  sub->add_option("--retry-wait", a->retry_wait, "Seconds the relay has to retry after a 451")->capture_default_str();
  sub->add_option("--timeout", a->timeout, "Seconds to wait for each reply of the relay")->capture_default_str();
  sub->add_option("--inbound", a->inbound,
                  "[NAME=]FILE or HOST:PORT: a next hop's `probe server` JSON report, or the next hop itself "
                  "(repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--progress", a->progress, "Print each check's verdict on stderr as it ends");
  sub->add_flag("--list", a->list, "List the checks (group, ID, level, title) and exit");
  add_report_flags(sub, a->report);
  sub->callback([a, &run] {
    if (a->submit.empty() && !a->list) throw CLI::ValidationError("--submit", "give the relay as --submit HOST:PORT");
    run = [a] { return run_relay_probe(*a); };
  });
}

}  // namespace

void add_probe(CLI::App& app, runner& run) {
  auto a = std::make_shared<probe_args>();
  auto* probe = app.add_subcommand("probe", "Run a conformance suite against an SMTP implementation");
  probe->require_subcommand(1, 1);
  auto* sub = probe->add_subcommand("server", "Probe an SMTP server with the scenario suite (conformance/server/)");
  sub->footer(
      "TARGET is HOST:PORT (plain; --starttls or --tls for TLS), or use --exec 'COMMAND' for a server\n"
      "speaking SMTP on stdin/stdout (e.g. 'exim -bs'). One connection per scenario.\n"
      "\n"
      "WARNING: scenarios that submit mail (a whole transaction, 8BITMIME, SMTPUTF8, CHUNKING, the\n"
      "end-of-data probes, ...) send real messages from --from to --rcpt, and the open-relay\n"
      "scenarios try RCPT TO addresses at each --relay-domain (never completing a message).\n"
      "Probing a production server delivers test mail: point --rcpt at a mailbox you own.\n"
      "The defaults are reserved names (probe@example.test, rcpt@example.test, relay domains\n"
      "example.net and example.org) that no real server delivers to.\n"
      "\n"
      "Verdicts per scenario: pass, fail (with the RFC level of what failed), not applicable\n"
      "(@requires not advertised), error (timeout, connection). The dialogue of every failure is in\n"
      "the report. Exit: 0 no failure at or above --fail-on, 1 failures or errors, 2 usage error,\n"
      "a suite that does not load, or a target that cannot be reached.");
  sub->add_option("target", a->target, "Server HOST:PORT");
  sub->add_option("--suite", a->suites, "Another folder (or file) of scenario scripts (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--no-builtin", a->no_builtin, "Run only the --suite scenarios, not conformance/server/");
  sub->add_option("--only", a->only,
                  "Only this group or scenario ID, or an ID prefix like security.smuggling (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--starttls", a->starttls, "STARTTLS before each scenario (scenarios run inside TLS)");
  sub->add_flag("--tls", a->tls, "TLS from the first octet (implicit TLS, RFC 8314)");
  sub->add_flag("--insecure", a->insecure, "Accept any TLS certificate (self-signed test servers)");
  sub->add_option("--tls-name", a->tls_name, "Name to check in the server's certificate (default: the host)");
  sub->add_option("--exec", a->exec, "Command speaking SMTP on stdin/stdout, run once per scenario");
  sub->add_option("--helo", a->helo, "Name the scenarios give in EHLO/HELO")->capture_default_str();
  sub->add_option("--from", a->from, "Sender of the test messages")->capture_default_str();
  sub->add_option("--rcpt", a->rcpts, "Recipient of the test messages (repeatable; default rcpt@example.test)")
      ->allow_extra_args(false);
  sub->add_option("--relay-domain", a->relay_domains,
                  "Domain the server must not relay to (repeatable; default example.net and example.org)")
      ->allow_extra_args(false);
  sub->add_option("--auth", a->auth, "USER:PASSWORD for the scenarios that authenticate successfully");
  sub->add_option("--timeout", a->timeout, "Seconds to wait for each reply")->capture_default_str();
  sub->add_option("--scenario-timeout", a->scenario_timeout, "Seconds one scenario may take")->capture_default_str();
  sub->add_option("--jobs,-j", a->jobs, "Scenarios at once, each on its own connection")->capture_default_str();
  sub->add_flag("--progress", a->progress, "Print each scenario's verdict on stderr as it ends");
  sub->add_flag("--list", a->list, "List the scenarios (group, ID, level, title) and exit");
  add_report_flags(sub, a->report);
  sub->callback([a, &run] {
    if (a->target.empty() && a->exec.empty() && !a->list)
      throw CLI::ValidationError("TARGET", "give HOST:PORT or --exec COMMAND");
    if (!a->target.empty() && !a->exec.empty()) throw CLI::ValidationError("--exec", "give either TARGET or --exec");
    run = [a] { return run_probe(*a); };
  });
  add_probe_client(probe, run);
  add_probe_relay(probe, run);
}

}  // namespace smtpkit::cli
