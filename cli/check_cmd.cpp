// cli/check_cmd.cpp — `smtpkit check`: judge recorded dialogues offline.
// Exit 0 when nothing at or above --fail-on was found, 1 when something was,
// 2 on usage errors or an unreadable transcript (which says file:line:col).
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

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

struct input {
  std::string source;
  std::string text;
};

// Files named on the command line, *.smtp files under named folders, and
// standard input for "-". An unreadable file, a folder without transcripts
// and an empty dialogue are errors, not an empty pass.
bool gather(const std::vector<std::string>& args, std::vector<input>& out) {
  const std::string tool = "smtpkit check";
  auto read = [&](const std::string& path, std::istream& in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    out.push_back({path, ss.str()});
  };
  for (const auto& arg : args) {
    std::error_code ec;
    if (arg == "-") {
      read("-", std::cin);
    } else if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::string> found;
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg, ec))
        if (e.is_regular_file() && e.path().extension() == ".smtp") found.push_back(e.path().string());
      if (found.empty()) {
        std::cerr << tool << ": " << arg << ": no *.smtp transcripts in this folder\n";
        return false;
      }
      std::sort(found.begin(), found.end());
      for (const auto& f : found) {
        std::ifstream in(f, std::ios::binary);
        read(f, in);
      }
    } else {
      errno = 0;
      std::ifstream in(arg, std::ios::binary);
      if (!in) {
        std::cerr << tool << ": " << arg << ": " << open_failure(errno != 0 ? errno : EIO) << "\n";
        return false;
      }
      read(arg, in);
    }
  }
  return true;
}

int run_check(const check_args& a) {
  const std::string tool = "smtpkit check";
  conformance::policy policy;
  if (!load_policy(a.report.policy, tool, policy)) return exit_usage;
  std::vector<input> inputs;
  if (!gather(a.inputs, inputs)) return exit_usage;
  conformance::engine_options eo;
  eo.judge_client = a.judge != "server";
  eo.judge_server = a.judge != "client";
  std::vector<conformance::session_report> sessions;
  bool unreadable = false;
  for (auto& in : inputs) {
    auto t = read_transcript(in.text, in.source);
    if (t.ok() && t.value->records.empty()) t.error = {in.source, 0, 0, "no dialogue: the file holds no records"};
    if (!t.ok() || t.value->records.empty()) {
      std::cerr << t.error.to_string() << "\n";
      conformance::session_report r;
      r.source = in.source;
      r.unreadable = true;
      r.error = t.error;
      sessions.push_back(std::move(r));
      unreadable = true;
      continue;
    }
    sessions.push_back(conformance::check_transcript(*t.value, eo));
    sessions.back().transcript = std::move(in.text);  // for the ladders of --format html
  }
  conformance::report r = conformance::dialogues_report(std::move(sessions), tool);
  conformance::apply(policy, r);
  r.policy_file = policy.file;
  if (!emit_report(a.report, r)) return exit_usage;
  if (unreadable) return exit_usage;
  return conformance::failed(r, fail_level(a.report)) ? exit_violations : exit_ok;
}

}  // namespace

void add_check(CLI::App& app, runner& run) {
  auto args = std::make_shared<check_args>();
  auto* sub = app.add_subcommand("check", "Check recorded dialogues (transcripts) for protocol conformance");
  sub->footer(
      "TRANSCRIPT: a file in the dialogue format (docs/dialogue-format.md), a folder of *.smtp files, or -\n"
      "for standard input.\n"
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
