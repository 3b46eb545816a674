// cli/probe_cmd.cpp — `smtpkit probe server TARGET`: run the scenario
// suite (conformance/server/ and --suite folders) against an SMTP server
// and report a verdict per scenario (smtpkit/mock/probe/probe.hpp).
// Exit: 0 no failure at or above --fail-on, 1 failures or scenario errors,
// 2 usage error, a suite that does not load, or a target that cannot be reached.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "report_io.hpp"
#include "smtpkit/mock/probe/probe.hpp"
#include "verbs.hpp"

#ifndef SMTPKIT_SOURCE_DIR
#define SMTPKIT_SOURCE_DIR "."
#endif
#ifndef SMTPKIT_DATA_DIR
#define SMTPKIT_DATA_DIR "share/smtpkit"
#endif

namespace smtpkit::cli {
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
std::string builtin_suite() {
  namespace fs = std::filesystem;
  for (const std::string& d :
       {std::string(SMTPKIT_SOURCE_DIR) + "/conformance/server", std::string(SMTPKIT_DATA_DIR) + "/server"}) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    // Reports name scenario files: relative to here when they are below it.
    auto rel = fs::proximate(d, ec);
    return !ec && !rel.empty() && rel.string().rfind("..", 0) != 0 ? rel.string() : d;
  }
  return {};
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
    auto colon = a.auth.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::cerr << tool << ": --auth " << a.auth << ": expected USER:PASSWORD\n";
      return exit_usage;
    }
    o.auth = std::make_pair(a.auth.substr(0, colon), a.auth.substr(colon + 1));
  }
  o.only = a.only;
  o.jobs = a.jobs == 0 ? 1 : a.jobs;

  std::vector<std::string> paths;
  if (!a.no_builtin) {
    std::string b = builtin_suite();
    if (b.empty()) {
      std::cerr << tool << ": the built-in suite (conformance/server) is not found; name one with --suite\n";
      return exit_usage;
    }
    paths.push_back(b);
  }
  paths.insert(paths.end(), a.suites.begin(), a.suites.end());
  if (paths.empty()) {
    std::cerr << tool << ": no suite: --no-builtin needs --suite DIR\n";
    return exit_usage;
  }
  mock::suite su = mock::load_suite(paths);
  if (!su.errors.empty()) {
    for (const auto& e : su.errors) std::cerr << e << "\n";
    return exit_usage;
  }
  std::size_t chosen = 0;
  for (const auto& sc : su.scenarios) chosen += mock::selected(sc, o.only) ? 1 : 0;
  if (chosen == 0) {
    std::cerr << tool << ": --only matches no scenario (groups and IDs: `smtpkit probe server --list`)\n";
    return exit_usage;
  }
  if (a.list) {
    for (const auto& sc : su.scenarios)
      if (mock::selected(sc, o.only))
        std::cout << sc.s.meta.group << "\t" << sc.s.meta.id << "\t" << to_string(sc.level) << "\t" << sc.s.meta.title
                  << "\n";
    return exit_ok;
  }
  if (a.progress)
    o.on_result = [](const mock::scenario_result& r) {
      std::cerr << "  " << to_string(r.verdict.result) << "  " << r.verdict.id << "\n";
    };

  conformance::report rep = mock::make_report(mock::run_probe(su, o), tool);
  rep.policy_file = o.policy.file;
  if (!emit_report(a.report, rep)) return exit_usage;
  if (rep.target.unreachable) {
    std::cerr << tool << ": " << rep.target.name << ": " << rep.target.unreachable_reason << "\n";
    return exit_usage;
  }
  return conformance::failed(rep, fail_level(a.report)) ? exit_violations : exit_ok;
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
}

}  // namespace smtpkit::cli
