// cli/report_io.cpp — report flags and writing reports to a file or stdout.
#include "report_io.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace smtpkit::cli {

void add_report_flags(CLI::App* sub, report_flags& f, bool fuzz) {
  sub->add_option("--format", f.format, "Report format")
      ->check(CLI::IsMember({"text", "json", "junit", "sarif", "html"}))
      ->capture_default_str();
  sub->add_option("--output,-o", f.output, "Write the report to FILE ('-': standard output)")->capture_default_str();
  if (fuzz) {
    sub->add_option("--fail-on", f.fail_on,
                    "What is a finding: crash, hang (and crashes), must or should (and crashes, hangs, "
                    "the server's violations at that level)")
        ->check(CLI::IsMember({"crash", "hang", "must", "should"}))
        ->capture_default_str();
  } else {
    sub->add_option("--fail-on", f.fail_on, "Lowest level that fails: must or should")
        ->check(CLI::IsMember({"must", "should", "may"}))
        ->capture_default_str();
  }
  sub->add_option("--color", f.color, "Colour in text reports")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  if (!fuzz) add_policy_flags(sub, f.policy);
}

void add_policy_flags(CLI::App* sub, policy_flags& f) {
  sub->add_option("--ignore", f.ignore,
                  "Waive a rule or scenario: its findings are shown, marked waived, never fail "
                  "(an id or a glob such as client.domain.*; repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--level", f.levels, "Count a rule at another level: RULE=must|should|may|advice (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--config", f.config,
                  "Waivers and levels from this file (default: the nearest .smtpkit.yaml "
                  "in the working directory or above)");
  sub->add_flag("--no-config", f.no_config, "Read no .smtpkit.yaml");
}

bool load_policy(const policy_flags& f, const std::string& tool, conformance::policy& out) {
  try {
    std::string file = f.config;
    if (file.empty() && !f.no_config) file = conformance::find_policy_file(std::filesystem::current_path());
    if (!file.empty()) out = conformance::load_policy_file(file);
  } catch (const std::exception& e) {
    std::cerr << tool << ": " << e.what() << "\n";
    return false;
  }
  for (const auto& i : f.ignore) out.ignore(i);
  for (const auto& l : f.levels) {
    std::string why;
    if (!out.set_level(l, why)) {
      std::cerr << tool << ": " << why << "\n";
      return false;
    }
  }
  return true;
}

conformance::level fail_level(const report_flags& f) {
  conformance::level l = conformance::level::must;
  conformance::level_from_string(f.fail_on, l);
  return l;
}

bool want_color(const std::string& mode, bool to_stdout) {
  if (mode == "never") return false;
  if (mode == "always") return true;
  const char* nc = std::getenv("NO_COLOR");
  if (nc != nullptr && *nc != '\0') return false;
  return to_stdout && isatty(STDOUT_FILENO);
}

bool write_output(const report_flags& f, const std::string& tool, const std::function<void(std::ostream&)>& write) {
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (f.output != "-") {
    file.open(f.output, std::ios::binary | std::ios::trunc);
    out = &file;
  }
  if (*out) {
    write(*out);
    out->flush();
  }
  if (!*out) {
    std::cerr << tool << ": cannot write " << (f.output == "-" ? std::string("standard output") : f.output) << "\n";
    return false;
  }
  return true;
}

bool report_color(const report_flags& f) { return f.format == "text" && want_color(f.color, f.output == "-"); }

bool emit_report(const report_flags& f, const conformance::report& r) {
  conformance::report_options o;
  o.fail_on = fail_level(f);
  o.color = report_color(f);
  return write_output(f, r.tool, [&](std::ostream& out) {
    if (f.format == "json") conformance::write_json(out, r, o);
    else if (f.format == "junit") conformance::write_junit(out, r, o);
    else if (f.format == "sarif") conformance::write_sarif(out, r, o);
    else if (f.format == "html") conformance::write_html(out, r, o);
    else conformance::write_text(out, r, o);
  });
}

}  // namespace smtpkit::cli
