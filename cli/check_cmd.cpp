// cli/check_cmd.cpp — `smtpkit check`: judge recorded dialogues offline.
// Exit 0 when nothing at or above --fail-on was found, 1 when something was,
// 2 on usage errors or an unreadable transcript (which says file:line:col).
#include <filesystem>
#include <iostream>

#include "report_io.hpp"
#include "smtpkit/conformance/check.hpp"
#include "smtpkit/conformance/report.hpp"
#include "verbs.hpp"

namespace smtpkit::cli {
namespace {

struct check_args {
  std::vector<std::string> inputs;
  report_flags report;
  std::string judge = "both";
};

// Files named on the command line, and *.smtp files under named folders.
std::vector<std::string> expand(const std::vector<std::string>& inputs, bool& missing) {
  std::vector<std::string> out;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& e : std::filesystem::recursive_directory_iterator(in, ec))
        if (e.is_regular_file() && e.path().extension() == ".smtp") found.push_back(e.path().string());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (std::filesystem::exists(in, ec)) {
      out.push_back(in);
    } else {
      std::cerr << "smtpkit check: " << in << ": no such file or folder\n";
      missing = true;
    }
  }
  return out;
}

int run_check(const check_args& a) {
  bool missing = false;
  auto files = expand(a.inputs, missing);
  if (missing) return exit_usage;
  conformance::engine_options eo;
  eo.judge_client = a.judge != "server";
  eo.judge_server = a.judge != "client";
  std::vector<conformance::session_report> sessions;
  bool unreadable = false;
  for (const auto& f : files) {
    auto t = read_transcript_file(f);
    if (!t.ok()) {
      std::cerr << t.error.to_string() << "\n";
      conformance::session_report r;
      r.source = f;
      r.unreadable = true;
      r.error = t.error;
      sessions.push_back(std::move(r));
      unreadable = true;
      continue;
    }
    sessions.push_back(conformance::check_transcript(*t.value, eo));
  }
  const conformance::report r = conformance::dialogues_report(std::move(sessions), "smtpkit check");
  if (!emit_report(a.report, r)) return exit_usage;
  if (unreadable) return exit_usage;
  return conformance::failed(r, fail_level(a.report)) ? exit_violations : exit_ok;
}

}  // namespace

void add_check(CLI::App& app, runner& run) {
  auto args = std::make_shared<check_args>();
  auto* sub = app.add_subcommand("check", "Check recorded dialogues (transcripts) for protocol conformance");
  sub->footer(
      "TRANSCRIPT: a file in the dialogue format (docs/dialogue-format.md), or a folder of *.smtp files.\n"
      "Each finding: file:line: side LEVEL rule-id: message (RFC section). `smtpkit rules` lists the rules.\n"
      "Exit: 0 nothing at or above --fail-on, 1 violations found, 2 usage error or unreadable transcript.");
  sub->add_option("transcripts", args->inputs, "Transcript files or folders")->required();
  sub->add_option("--judge", args->judge, "Which side's rules to apply")
      ->check(CLI::IsMember({"both", "client", "server"}))
      ->capture_default_str();
  add_report_flags(sub, args->report);
  sub->callback([args, &run] { run = [args] { return run_check(*args); }; });
}

}  // namespace smtpkit::cli
