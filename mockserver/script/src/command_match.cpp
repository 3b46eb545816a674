// command_match.cpp — C: records against command lines, RFC 5321 §2.4.
#include "smtpkit/mock/script/command_match.hpp"

#include <string>

#include "smtpkit/command.hpp"

namespace smtpkit::mock {
namespace {

void upper(std::string& s, std::size_t from, std::size_t n) {
  for (std::size_t i = from; i < from + n && i < s.size(); ++i)
    if (s[i] >= 'a' && s[i] <= 'z') s[i] = static_cast<char>(s[i] - 32);
}

std::size_t at(std::string_view line, std::string_view part) {
  return static_cast<std::size_t>(part.data() - line.data());
}

// The line with the parts §2.4 makes case-insensitive in upper case, and
// the SIZE value cut out when `drop_size` (`had_size` says there was one).
std::string canonical(std::string_view line, bool drop_size, bool& had_size) {
  std::string out(line);
  had_size = false;
  parse_options o;
  o.smtputf8 = true;
  o.relax = lenient::all;  // a client's sloppy line still has a verb and a tag
  const command_result r = parse_command(line, o);
  if (r.cmd.kind == verb::unknown) return out;
  upper(out, 0, r.cmd.verb_text.size());
  if (r.cmd.kind == verb::bdat && r.ok()) {
    // RFC 3030 §2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]; the
    // size is the chunk's, so it goes with the message as SIZE does.
    had_size = true;
    return "BDAT" + (drop_size ? std::string() : " " + std::to_string(r.cmd.chunk_size)) + (r.cmd.last ? " LAST" : "");
  }
  if (r.cmd.kind != verb::mail && r.cmd.kind != verb::rcpt) return out;
  // " FROM:" / " TO:" stands between the verb and the argument.
  const std::size_t tag = r.cmd.verb_text.size();
  const std::size_t arg = r.cmd.argument.empty() ? line.size() : at(line, r.cmd.argument);
  upper(out, tag, arg > tag ? arg - tag : 0);
  if (!r.ok() || r.cmd.params.empty()) return out;
  std::size_t cut = 0, cut_n = 0;
  for (const esmtp_param& p : r.cmd.params) {
    upper(out, at(line, p.keyword), p.keyword.size());
    if (p.has_value && param_from_keyword(p.keyword) == param_id::size) {
      had_size = true;
      cut = at(line, p.value);
      cut_n = p.value.size();
    }
  }
  if (drop_size && had_size) out.erase(cut, cut_n);
  return out;
}

}  // namespace

command_match match_command(std::string_view expected, std::string_view received, bool compare_size) {
  if (expected == received) return command_match::exact;
  bool es = false, rs = false;
  if (canonical(expected, false, es) == canonical(received, false, rs)) return command_match::by_case;
  if (compare_size || !es || !rs) return command_match::differ;
  return canonical(expected, true, es) == canonical(received, true, rs) ? command_match::size_differs
                                                                        : command_match::differ;
}

}  // namespace smtpkit::mock
