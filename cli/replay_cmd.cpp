// cli/replay_cmd.cpp — `smtpkit replay`: the client side of a recorded
// transcript against a live server. Each reply is compared with the
// recorded one, by reply code (RFC 5321 §4.2) or, with --exact, line by
// line; the conformance engine judges the server side of the live
// dialogue; smtpkit/mock/probe/replay.hpp builds the report. Exit statuses
// are those of `check` (0 holds, 1 findings or differing replies, 2 usage
// or connection error).
//
// Limits: the comparison stops where the rest of the recording would be
// read differently by the server (a 354, 334 or 220 to STARTTLS that did
// not come); octets hidden by TLS in a recording cannot be replayed.
#include <fstream>
#include <iostream>

#include "report_io.hpp"
#include "smtpkit/mock/client/driver.hpp"
#include "smtpkit/mock/probe/replay.hpp"
#include "verbs.hpp"

namespace smtpkit::cli {
namespace {

struct replay_args {
  std::string transcript;
  std::string target;
  std::string exec;
  bool exact = false;
  bool tls = false;
  bool insecure = false;
  double timeout = 10;
  double session_timeout = 120;
  std::string save;
  report_flags report;
};

int run_replay(const replay_args& a) {
  const std::string tool = "smtpkit replay";
  mock::driver_options o;
  if (!a.exec.empty()) {
    o.target.command = a.exec;
  } else if (std::string why; !mock::parse_target(a.target, o.target, &why)) {
    std::cerr << tool << ": --target " << a.target << ": " << why << "\n";
    return exit_usage;
  }
  conformance::policy policy;
  if (!load_policy(a.report.policy, tool, policy)) return exit_usage;
  o.target.implicit_tls = a.tls;
  o.target.insecure = a.insecure;
  o.compare = a.exact ? mock::reply_compare::exact : mock::reply_compare::code;
  o.continue_after_mismatch = true;
  o.step_timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  o.session_timeout = std::chrono::milliseconds(static_cast<long long>(a.session_timeout * 1000));
  o.source = a.save.empty() ? a.transcript + " (replayed)" : a.save;

  auto loaded = mock::load_script_file(a.transcript, side::client);
  if (auto* err = std::get_if<mock::script_error>(&loaded)) {
    std::cerr << err->to_string() << "\n";
    return exit_usage;
  }
  const auto& s = std::get<mock::script>(loaded);
  mock::driver_result r = mock::play(s, o);
  if (!r.connected || r.status == mock::run_status::error) {
    std::cerr << tool << ": " << o.target.describe() << ": " << r.reason << "\n";
    if (!r.connected) return exit_usage;
  }
  if (!a.save.empty()) {
    std::ofstream f(a.save, std::ios::binary | std::ios::trunc);
    f << r.transcript;
    if (!f) {
      std::cerr << tool << ": cannot write " << a.save << "\n";
      return exit_usage;
    }
  }
  mock::replay_report_options ro;
  ro.recording = a.transcript;
  ro.exact = a.exact;
  ro.saved = !a.save.empty();
  conformance::report rep = mock::make_replay_report(std::move(r), o.target, ro);
  conformance::apply(policy, rep);
  rep.policy_file = policy.file;
  if (!emit_report(a.report, rep)) return exit_usage;
  return conformance::failed(rep, fail_level(a.report)) ? exit_violations : exit_ok;
}

}  // namespace

void add_replay(CLI::App& app, runner& run) {
  auto a = std::make_shared<replay_args>();
  auto* sub = app.add_subcommand("replay", "Play the client side of a recorded transcript against a live server");
  sub->footer(
      "Each reply is compared with the recorded one by reply code (--exact: line by line), and the\n"
      "conformance engine judges the server's side of the live dialogue (`smtpkit rules`).\n"
      "Sends exactly what the recording's client sent: replaying a session that delivered mail\n"
      "delivers it again.\n"
      "Exit: 0 same replies and nothing at or above --fail-on, 1 replies differ or findings,\n"
      "2 usage error, unreadable transcript, or no connection.");
  sub->add_option("transcript", a->transcript, "Recorded dialogue (docs/dialogue-format.md)")->required();
  auto* t = sub->add_option("--target", a->target, "Server HOST:PORT");
  auto* e = sub->add_option("--exec", a->exec, "Command speaking SMTP on stdin/stdout instead (e.g. 'exim -bs')");
  t->excludes(e);
  e->excludes(t);
  sub->add_flag("--exact", a->exact, "Compare every reply line exactly, not just the code");
  sub->add_flag("--tls", a->tls, "TLS from the first octet (implicit TLS, RFC 8314)");
  sub->add_flag("--insecure", a->insecure, "Accept any TLS certificate (self-signed test servers)");
  sub->add_option("--timeout", a->timeout, "Seconds to wait for each reply")->capture_default_str();
  sub->add_option("--session-timeout", a->session_timeout, "Seconds the whole replay may take")->capture_default_str();
  sub->add_option("--save", a->save, "Write the live dialogue to FILE (findings then name its lines)");
  add_report_flags(sub, a->report);
  sub->callback([a, &run] {
    if (a->target.empty() && a->exec.empty())
      throw CLI::ValidationError("--target", "give --target HOST:PORT or --exec COMMAND");
    run = [a] { return run_replay(*a); };
  });
}

}  // namespace smtpkit::cli
