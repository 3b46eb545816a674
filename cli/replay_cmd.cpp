// cli/replay_cmd.cpp — `smtpkit replay`: the client side of a recorded
// transcript against a live server. Each reply is compared with the
// recorded one, by reply code (RFC 5321 §4.2) or, with --exact, line by
// line; the conformance engine judges the server side of the live
// dialogue. Report writers and exit statuses are those of `check`
// (0 holds, 1 findings or differing replies, 2 usage or connection error).
//
// Limits: the comparison stops where the rest of the recording would be
// read differently by the server (a 354, 334 or 220 to STARTTLS that did
// not come); octets hidden by TLS in a recording cannot be replayed.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "report_io.hpp"
#include "smtpkit/conformance/check.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/mock/client/driver.hpp"
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

// One line per reply that differs, in the "file:line:" form of findings.
std::vector<std::string> difference_lines(const std::string& file, const mock::driver_result& r) {
  std::vector<std::string> out;
  for (const auto& e : r.expectations) {
    if (e.ok) continue;
    std::string received = e.received;
    for (auto& c : received)
      if (c == '\n') c = '/';
    out.push_back(file + ":" + std::to_string(e.line) + ": reply differs: expected " + e.expected + ", received " +
                  received);
  }
  return out;
}

// The JSON and JUnit writers know findings only; the differences join
// their documents here, so `check`'s schema stays one schema.
std::string add_to_json(const std::string& doc, const std::string& file, const mock::driver_result& r, bool bad) {
  auto j = nlohmann::ordered_json::parse(doc);
  nlohmann::ordered_json diffs = nlohmann::ordered_json::array();
  for (const auto& e : r.expectations)
    if (!e.ok) diffs.push_back({{"line", e.line}, {"expected", e.expected}, {"received", e.received}});
  j["replay"] = {{"transcript", file},
                 {"status", std::string(mock::to_string(r.status))},
                 {"reason", r.reason},
                 {"replies_compared", r.expectations.size()},
                 {"differences", diffs},
                 {"dialogue", r.transcript}};
  if (bad) j["verdict"] = "fail";
  return j.dump(2) + "\n";
}

// Adds `by` to the number in ` NAME="N"` inside the tag at [from, to).
void bump_attribute(std::string& doc, std::size_t from, std::size_t to, const std::string& name, unsigned long by) {
  const std::string key = " " + name + "=\"";
  const std::size_t at = doc.find(key, from);
  if (at == std::string::npos || at >= to) return;
  const std::size_t digits = at + key.size();
  const std::size_t end = doc.find('"', digits);
  if (end == std::string::npos || end == digits || doc.find_first_not_of("0123456789", digits) != end) return;
  doc.replace(digits, end - digits, std::to_string(std::stoul(doc.substr(digits, end - digits)) + by));
}

std::string add_to_junit(const std::string& doc, const std::string& file, const mock::driver_result& r) {
  std::string suite = "  <testsuite name=\"" + conformance::xml_escape(file + " (replies)") + "\" tests=\"1\" failures=\"" +
                      std::string(r.mismatches() ? "1" : "0") + "\" errors=\"0\" skipped=\"0\" time=\"0\">\n";
  suite += "    <testcase name=\"replay.replies\" classname=\"smtpkit.replay\" time=\"0\"";
  if (r.mismatches() == 0) {
    suite += "/>\n";
  } else {
    std::string body;
    for (const auto& l : difference_lines(file, r)) body += conformance::xml_escape(l) + "\n";
    suite += ">\n      <failure message=\"" + conformance::xml_escape(r.reason) + "\" type=\"replay\">" + body +
             "</failure>\n    </testcase>\n";
  }
  suite += "  </testsuite>\n";
  std::string out = doc;
  auto at = out.rfind("</testsuites>");
  if (at == std::string::npos) return out;
  out.insert(at, suite);
  // The root element counts every suite's tests and failures.
  const std::size_t root = out.find("<testsuites");
  const std::size_t root_end = root == std::string::npos ? root : out.find('>', root);
  if (root_end != std::string::npos) {
    bump_attribute(out, root, root_end, "tests", 1);
    bump_attribute(out, root, out.find('>', root), "failures", r.mismatches() ? 1 : 0);
  }
  return out;
}

int run_replay(const replay_args& a) {
  const std::string tool = "smtpkit replay";
  mock::driver_options o;
  if (!a.exec.empty()) {
    o.target.command = a.exec;
  } else if (!mock::parse_target(a.target, o.target)) {
    std::cerr << tool << ": --target " << a.target << ": expected HOST:PORT\n";
    return exit_usage;
  }
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
  std::vector<conformance::session_report> sessions{r.report};
  const bool differs = r.mismatches() > 0;
  const bool bad = differs || conformance::failed(sessions, fail_level(a.report)) || r.status == mock::run_status::error;

  // Each writer renders into a string first, so the differences can join it.
  std::ostringstream doc;
  conformance::report_options ro;
  ro.fail_on = fail_level(a.report);
  ro.tool = tool;
  ro.color = report_color(a.report);
  std::string out;
  if (a.report.format == "json") {
    conformance::write_json(doc, sessions, ro);
    out = add_to_json(doc.str(), a.transcript, r, bad);
  } else if (a.report.format == "junit") {
    conformance::write_junit(doc, sessions, ro);
    out = add_to_junit(doc.str(), a.transcript, r);
  } else {
    for (const auto& l : difference_lines(a.transcript, r)) out += l + "\n";
    if (r.status == mock::run_status::error) out += a.transcript + ": " + r.reason + "\n";
    conformance::write_text(doc, sessions, ro);
    out += doc.str();
    // Findings name lines of the live dialogue: show it when there are any
    // (unless it was saved to a file, which the findings then name).
    if (a.save.empty() && (!r.report.findings.empty() || differs)) {
      out += "\nthe replayed dialogue (" + o.target.describe() + "):\n";
      std::istringstream lines(r.transcript);
      std::string line;
      for (std::size_t n = 1; std::getline(lines, line); ++n) out += "  " + std::to_string(n) + "  " + line + "\n";
    }
    out += std::to_string(r.expectations.size()) + " replies compared " + (a.exact ? "exactly" : "by code") + ", " +
           std::to_string(r.mismatches()) + " differ\n";
  }
  if (!write_output(a.report, tool, [&](std::ostream& dest) { dest << out; })) return exit_usage;
  return bad ? exit_violations : exit_ok;
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
    if (a->target.empty() && a->exec.empty()) throw CLI::ValidationError("--target", "give --target HOST:PORT or --exec COMMAND");
    run = [a] { return run_replay(*a); };
  });
}

}  // namespace smtpkit::cli
