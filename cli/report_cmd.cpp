// cli/report_cmd.cpp — `smtpkit report matrix RUN.json...`: probe runs joined
// into one implementation × scenario table, Markdown or a self-contained
// HTML page (smtpkit/conformance/matrix.hpp).
#include <cerrno>
#include <iostream>

#include "report_io.hpp"
#include "smtpkit/conformance/matrix.hpp"
#include "verbs.hpp"

namespace smtpkit::cli {
namespace {

struct matrix_args {
  std::vector<std::string> runs;
  std::string format = "markdown";
  std::string output = "-";
  std::string title = "SMTP conformance matrix";
};

int run_matrix(const matrix_args& a) {
  const std::string tool = "smtpkit report matrix";
  conformance::matrix m;
  try {
    m = conformance::load_matrix(a.runs);
  } catch (const conformance::matrix_error& e) {
    std::cerr << tool << ": " << e.what() << "\n";
    return exit_usage;
  }
  report_flags f;
  f.output = a.output;
  const bool written = write_output(f, tool, [&](std::ostream& out) {
    if (a.format == "html") conformance::write_matrix_html(out, m, a.title);
    else conformance::write_matrix_markdown(out, m, a.title);
  });
  return written ? exit_ok : exit_usage;
}

}  // namespace

void add_report(CLI::App& app, runner& run) {
  auto a = std::make_shared<matrix_args>();
  auto* report = app.add_subcommand("report", "Join reports: an implementation x scenario matrix of probe runs");
  report->require_subcommand(1, 1);
  auto* sub = report->add_subcommand("matrix", "One table of many `probe server|client --format json` runs");
  sub->footer(
      "RUN: the JSON report of `smtpkit probe server --format json` (or `probe client`), as FILE\n"
      "(its column is named after the file, without .json) or NAME=FILE. Rows are the scenarios\n"
      "of all runs.\n"
      "Exit: 0 written, 2 a run that cannot be read or is not a probe report.");
  sub->add_option("runs", a->runs, "Probe reports (JSON), FILE or NAME=FILE")->required();
  sub->add_option("--format", a->format, "markdown or html")
      ->check(CLI::IsMember({"markdown", "html"}))
      ->capture_default_str();
  sub->add_option("--output,-o", a->output, "Write to FILE ('-': standard output)")->capture_default_str();
  sub->add_option("--title", a->title, "Title of the page")->capture_default_str();
  sub->callback([a, &run] { run = [a] { return run_matrix(*a); }; });
}

}  // namespace smtpkit::cli
