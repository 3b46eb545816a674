// cli/script_cmd.cpp — `smtpkit script generalize FILE`: a recording made a
// reusable script, the client records of what varies between runs (its
// EHLO name, SIZE, Date, Message-ID, boundaries, date-times, ...) written as
// C~ patterns after their recorded lines (smtpkit/mock/script/generalize.hpp,
// docs/dialogue-format.md "Generalising a recording"; RFC 5321 §4.1.1.1,
// RFC 1870, RFC 5322 §3.3 and §3.6, RFC 2046 §5.1.1).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "smtpkit/mock/script/generalize.hpp"
#include "verbs.hpp"

namespace smtpkit::cli {
namespace {

struct generalize_args {
  std::string input;
  std::string output;
};

int run_generalize(const generalize_args& a) {
  std::ifstream in(a.input, std::ios::binary);
  if (!in) {
    std::cerr << "smtpkit script generalize: cannot read " << a.input << "\n";
    return exit_usage;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto r = mock::generalize(text.str(), a.input);
  if (auto* e = std::get_if<mock::script_error>(&r)) {
    std::cerr << e->to_string() << "\n";
    return exit_usage;
  }
  const auto& g = std::get<mock::generalized>(r);
  if (a.output.empty() || a.output == "-") {
    std::cout << g.text;
    return std::cout ? exit_ok : exit_usage;
  }
  // A script written earlier is never replaced (docs/cli.md).
  const int fd = ::open(a.output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::cerr << "smtpkit script generalize: cannot create " << a.output << ": " << std::strerror(errno)
              << (errno == EEXIST ? " (it is never replaced: remove it, or choose another name)" : "") << "\n";
    return exit_usage;
  }
  std::size_t done = 0;
  while (done < g.text.size()) {
    const ssize_t w = ::write(fd, g.text.data() + done, g.text.size() - done);
    if (w <= 0) {
      ::close(fd);
      std::cerr << "smtpkit script generalize: cannot write " << a.output << "\n";
      return exit_usage;
    }
    done += static_cast<std::size_t>(w);
  }
  ::close(fd);
  std::cerr << "smtpkit script generalize: " << g.changed << " records made patterns, written to " << a.output << "\n";
  return exit_ok;
}

}  // namespace

void add_script(CLI::App& app, runner& run) {
  auto* script = app.add_subcommand("script", "Work on scripts and recordings (docs/dialogue-format.md)");
  script->require_subcommand(1, 1);
  auto a = std::make_shared<generalize_args>();
  auto* sub = script->add_subcommand("generalize", "Make a recording a reusable script: C~ patterns for what varies");
  sub->footer(
      "The client records of what a client varies from run to run become C~ patterns, each written after\n"
      "its recorded line (kept as a comment): the EHLO/HELO name, MAIL's SIZE= value, and in the mail\n"
      "data the fields clients generate (Date, Message-ID, Received, X-Mailer, User-Agent, Content-ID,\n"
      "...), multipart boundaries and their delimiter lines, and date-times in other header fields.\n"
      "Everything else stays line for line. The result is a server script (smtpkit serve --script); its\n"
      "C~ records make it no longer a transcript for smtpkit check or smtpkit replay.\n"
      "Exit: 0 written, 2 unreadable input or an --output that exists (never replaced).");
  sub->add_option("file", a->input, "The recording (or script)")->required();
  sub->add_option("-o,--output", a->output, "Write the script to this new file (default: standard output)");
  sub->callback([a, &run] { run = [a] { return run_generalize(*a); }; });
}

}  // namespace smtpkit::cli
