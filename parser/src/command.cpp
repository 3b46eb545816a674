// command.cpp — SMTP command lines (RFC 5321 §4.1.1-4.1.2 and extensions).
#include "smtpkit/command.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "smtpkit/ascii.hpp"
#include "smtpkit/utf8.hpp"
#include "command_fast.hpp"
#include "command_fields.hpp"
#include "path_scan.hpp"
#include "perfect_hash.hpp"
#include "rfc5321.hpp"
#include "scan.hpp"
#include "test_support.hpp"

namespace smtpkit {

using detail::in;

namespace {

diagnostic fail(errc e, std::size_t at) noexcept { return {e, static_cast<std::uint32_t>(at)}; }

// Four-letter verbs folded to lower case in one 32-bit OR; every verb
// letter is alphabetic, so x|0x20 equals a lower-case letter only for that
// letter in either case. A multiplicative hash of the folded word names
// the one verb it can be, so the lookup is one load and one comparison
// whatever the verb: a chain of comparisons would mispredict on the mix of
// verbs of a session.
struct verb_entry {
  std::uint32_t word = 0;
  verb kind = verb::unknown;
};

constexpr std::array<verb_entry, 13> four_letter_verbs = [] {
  constexpr std::array<std::pair<std::string_view, verb>, 13> names{{{"ehlo", verb::ehlo},
                                                                     {"helo", verb::helo},
                                                                     {"mail", verb::mail},
                                                                     {"rcpt", verb::rcpt},
                                                                     {"data", verb::data},
                                                                     {"rset", verb::rset},
                                                                     {"vrfy", verb::vrfy},
                                                                     {"expn", verb::expn},
                                                                     {"help", verb::help},
                                                                     {"noop", verb::noop},
                                                                     {"quit", verb::quit},
                                                                     {"auth", verb::auth},
                                                                     {"bdat", verb::bdat}}};
  std::array<verb_entry, 13> t{};
  for (std::size_t i = 0; i < names.size(); ++i)
    t[i] = {static_cast<std::uint32_t>(detail::lower_word(names[i].first)), names[i].second};
  return t;
}();

constexpr std::uint32_t verb_factor = detail::perfect_factor<5>(four_letter_verbs);
constexpr auto verb_table = detail::hash_table<5>(four_letter_verbs, verb_factor);

[[gnu::always_inline]] inline verb lookup_verb(std::string_view v) noexcept {
  if (v.size() == 4) {
    std::uint32_t w;
    std::memcpy(&w, v.data(), 4);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap32(w);
    w |= 0x20202020u;
    const verb_entry& e = verb_table[detail::hash_slot<5>(w, verb_factor)];
    return e.word == w ? e.kind : verb::unknown;
  }
  if (v.size() == 8 && iequals(v, "STARTTLS")) return verb::starttls;
  return verb::unknown;
}

// After an argument: end of line, or (lenient) trailing white space.
diagnostic expect_end(std::string_view s, std::size_t pos, parse_options opts) noexcept {
  if (pos == s.size()) return {};
  if (s[pos] == ' ' || s[pos] == '\t') {
    std::size_t p = pos;
    while (p < s.size() && (s[p] == ' ' || s[p] == '\t')) ++p;
    if (p == s.size())
      return opts.allows(lenient::trailing_whitespace) ? diagnostic{} : fail(errc::trailing_whitespace, pos);
    return fail(errc::unexpected_argument, p);
  }
  return fail(errc::trailing_data, pos);
}

// String = Atom / Quoted-string
diagnostic scan_string(std::string_view s, std::size_t& pos, parse_options opts) noexcept {
  if (pos < s.size() && s[pos] == '"') return detail::scan_quoted_string(s, pos, opts);
  return detail::scan_atom(s, pos, opts);
}

// The argument of VRFY and EXPN. The ABNF says String (§4.1.1.6-7), but
// the prose widens it: "the string is a user name or a user name and
// domain" (§3.5.1), hosts "SHOULD accept the "local-part@domain" form",
// and "The character string arguments of the VRFY and EXPN commands cannot
// be further restricted". So any run of printable ASCII and SP (RFC 6531
// UTF-8 when SMTPUTF8 is in force) up to the end of the line; white space
// before CRLF is still the caller's to judge.
diagnostic scan_user_string(std::string_view s, std::size_t& pos, parse_options opts) noexcept {
  std::size_t end = s.size();
  while (end > pos && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
  if (end == pos) return fail(errc::string_syntax, pos);
  while (pos < end) {
    const auto c = static_cast<unsigned char>(s[pos]);
    if (c >= 0x80) {
      if (!opts.smtputf8) return fail(errc::eight_bit, pos);
      const std::size_t n = utf8_sequence(s, pos);
      if (n == 0) return fail(errc::invalid_utf8, pos);
      pos += n;
    } else if (c >= 0x20 && c < 0x7F) {
      ++pos;
    } else {
      return fail(errc::string_syntax, pos);
    }
  }
  return {};
}

// s continues at pos with kw, whose letters match in either case: x | 0x20
// folds a letter onto its lower case and leaves " " and ":" as they are, so
// only the letters are folded. Shorter than iequals' per-octet tolower.
bool keyword_follows(std::string_view s, std::size_t pos, std::string_view kw) noexcept {
  if (s.size() - pos < kw.size()) return false;
  for (std::size_t i = 0; i < kw.size(); ++i) {
    const char k = to_lower_ascii(kw[i]);
    const char x = detail::is_alpha(k) ? static_cast<char>(s[pos + i] | 0x20) : s[pos + i];
    if (x != k) return false;
  }
  return true;
}

diagnostic parse_mail_rcpt(std::string_view s, std::size_t pos, bool mail, parse_options opts, command& c) noexcept {
  // "MAIL FROM:" / "RCPT TO:" — the SP and keyword are part of the literal.
  const std::string_view kw = mail ? " FROM:" : " TO:";
  if (!keyword_follows(s, pos, kw)) {
    errc e = mail ? errc::mail_from_keyword : errc::rcpt_to_keyword;
    return fail(e, pos);
  }
  pos += kw.size();
  c.argument = s.substr(pos);
  if (pos < s.size() && s[pos] == ' ') {
    if (!opts.allows(lenient::space_after_colon)) return fail(errc::space_after_colon, pos);
    while (pos < s.size() && s[pos] == ' ') ++pos;
  }
  if (auto d = detail::scan_path(s, pos, mail ? path_kind::reverse : path_kind::forward, opts, c.address)) return d;
  if (pos == s.size()) return {};
  if (s[pos] != ' ') return fail(c.address.bracketed ? errc::trailing_data : errc::path_brackets, pos);
  // SP Mail-parameters
  std::size_t params = pos + 1;
  if (params == s.size() || s[params] == ' ' || s[params] == '\t') {
    if (s.find_first_not_of(" \t", params) == std::string_view::npos) return expect_end(s, pos, opts);
    return fail(errc::extra_space, params);
  }
  std::string_view text = s.substr(params);
  // Lenient trailing white space: strip it before the list is validated.
  if (opts.allows(lenient::trailing_whitespace))
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  c.params = param_list(text);
  diagnostic d = parse_params(text, mail, opts, c.typed);
  if (d) d.offset += static_cast<std::uint32_t>(params);
  return d;
}

diagnostic parse_auth(std::string_view s, std::size_t pos, parse_options opts, command& c) noexcept {
  // auth-command = "AUTH" SP sasl-mech [SP initial-response]
  const std::size_t mstart = pos;
  const bool lower_ok = opts.allows(lenient::auth_mechanism_case);
  while (pos < s.size() && (in(detail::mech_char, s[pos]) || (lower_ok && s[pos] >= 'a' && s[pos] <= 'z'))) ++pos;
  c.mechanism = s.substr(mstart, pos - mstart);
  if (c.mechanism.empty() || c.mechanism.size() > 20) return fail(errc::auth_mechanism, mstart);
  if (pos == s.size()) return {};
  if (s[pos] != ' ') return fail(errc::auth_mechanism, pos);
  const std::size_t rstart = pos + 1;
  if (rstart == s.size() || s[rstart] == ' ') return expect_end(s, pos, opts);
  // The response runs to the next SP or HT; base64 octets are most of it.
  const std::size_t octets = detail::span_base64(s, rstart);
  std::size_t end = octets;
  while (end < s.size() && s[end] != ' ' && s[end] != '\t') ++end;
  c.has_initial_response = true;
  c.initial_response = s.substr(rstart, end - rstart);
  // is_base64 without scanning again: one or more whole quanta of 4, the
  // base64 octets followed by no more than the padding "=" or "==".
  const std::size_t pad = end - octets;
  const bool base64 = end > rstart && (end - rstart) % 4 == 0 && pad <= 2 &&
                      s.substr(octets, pad) == std::string_view("==").substr(0, pad);
  if (c.initial_response != "=" && !base64) {
    std::size_t bad = rstart;
    while (bad < end && in(detail::base64_char, s[bad])) ++bad;
    return fail(errc::auth_initial_response, bad < end ? bad : rstart);
  }
  return expect_end(s, end, opts);
}

diagnostic parse_bdat(std::string_view s, std::size_t pos, parse_options opts, command& c) noexcept {
  // bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]; chunk-size = 1*DIGIT
  const std::size_t start = pos;
  std::uint64_t n = 0;
  bool overflow = false;
  while (pos < s.size() && detail::is_digit(s[pos])) {
    const auto d = static_cast<std::uint64_t>(s[pos] - '0');
    overflow |= __builtin_mul_overflow(n, std::uint64_t{10}, &n);
    overflow |= __builtin_add_overflow(n, d, &n);
    ++pos;
  }
  if (pos == start || overflow) return fail(errc::bdat_size, start);
  if (pos < s.size() && s[pos] != ' ' && s[pos] != '\t') return fail(errc::bdat_size, pos);
  c.chunk_size = n;
  if (pos == s.size()) return {};
  if (pos + 1 < s.size() && s[pos] == ' ' && s[pos + 1] != ' ' && s[pos + 1] != '\t') {
    std::size_t m = pos + 1;
    std::size_t end = m;
    while (end < s.size() && s[end] != ' ' && s[end] != '\t') ++end;
    if (!iequals(s.substr(m, end - m), "LAST")) return fail(errc::bdat_last, m);
    c.last = true;
    return expect_end(s, end, opts);
  }
  return expect_end(s, pos, opts);
}

}  // namespace

std::string_view to_string(verb v) noexcept {
  switch (v) {
    case verb::ehlo: return "EHLO";
    case verb::helo: return "HELO";
    case verb::mail: return "MAIL";
    case verb::rcpt: return "RCPT";
    case verb::data: return "DATA";
    case verb::rset: return "RSET";
    case verb::vrfy: return "VRFY";
    case verb::expn: return "EXPN";
    case verb::help: return "HELP";
    case verb::noop: return "NOOP";
    case verb::quit: return "QUIT";
    case verb::starttls: return "STARTTLS";
    case verb::auth: return "AUTH";
    case verb::bdat: return "BDAT";
    case verb::unknown:
    case verb::count_: break;
  }
  return "unknown";
}

bool is_base64(std::string_view s) noexcept {
  // base64-terms = *(4base64-char); base64-final = (2base64-char "==") / (3base64-char "=")
  if (s.empty() || s.size() % 4 != 0) return false;
  std::size_t pad = 0;
  if (s.back() == '=') pad = (s[s.size() - 2] == '=') ? 2 : 1;
  return detail::span_base64(s, 0) == s.size() - pad;
}

parse_result<auth_response> parse_auth_response(std::string_view line) noexcept {
  parse_result<auth_response> r;
  if (line == "*") {
    r.value.cancel = true;
    return r;
  }
  r.value.base64 = line;
  // An empty line is an empty response (RFC 4954 §4: "[base64] CRLF").
  if (!line.empty() && !is_base64(line)) {
    std::size_t bad = 0;
    while (bad < line.size() && in(detail::base64_char, line[bad])) ++bad;
    r.diag = fail(errc::auth_response, bad < line.size() ? bad : 0);
  }
  return r;
}

namespace {

// The first SP among the first sizeof(Word) octets at p (sizeof(Word) when
// there is none), as the lowest zero octet of a word XOR "  ..." (exact for
// the lowest one): no branch per octet.
template <class Word>
unsigned space_in_word(const char* p) noexcept {
  constexpr auto ones = static_cast<Word>(0x0101010101010101ull);
  constexpr auto highs = static_cast<Word>(0x8080808080808080ull);
  constexpr auto spaces = static_cast<Word>(0x2020202020202020ull);
  Word w;
  std::memcpy(&w, p, sizeof w);
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof w == 8) w = __builtin_bswap64(w);
    else w = __builtin_bswap32(w);
  }
  const auto x = static_cast<Word>(w ^ spaces);
  const auto zero = static_cast<Word>((x - ones) & ~x & highs);
  return zero ? static_cast<unsigned>(std::countr_zero(zero)) / 8 : static_cast<unsigned>(sizeof w);
}

// The first SP of a non-empty line (its size when it has none): one word
// holds the verb of nearly every line, four letters long.
std::size_t verb_end(std::string_view s) noexcept {
  std::size_t sp = 0;
  if (s.size() >= 8) {
    sp = space_in_word<std::uint64_t>(s.data());
    if (sp < 8) return sp;
  } else if (s.size() >= 4) {
    sp = space_in_word<std::uint32_t>(s.data());
    if (sp < 4) return sp;
  }
  while (sp < s.size() && s[sp] != ' ') ++sp;
  return sp;
}

// A field of `command` back to its default.
template <class T>
void clear_field(T& field) noexcept {
  field = T{};
}

// A path member by member: `p = path{}` builds the path on the stack and
// copies it, with a load that straddles two stores.
void clear_field(path& p) noexcept {
  p.text = {};
  p.source_route = {};
  p.mbox = mailbox{};
  p.null = false;
  p.postmaster = false;
  p.bracketed = true;
}

// Every field an argument of kind `k` may fill, back to its default.
void clear_fields(detail::argument_kind k, command& c) noexcept {
  detail::for_each_field(
      k, [](auto& field) { clear_field(field); }, c);
}

// The fast paths in use, chosen once: the most capable set this CPU runs,
// nullptr for none. Only the test hook use_command_fast_paths changes it.
const detail::command_fast_paths* fast_paths = detail::choose_command_fast_paths();

// Parses into `c`, which holds no field of an earlier command (see
// clear_after below). The verb's argument kind (command_fields.hpp) says
// which parse runs, and so which fields it fills.
template <bool Fast>
diagnostic parse_into(std::string_view s, parse_options opts, command& c) noexcept {
  if (s.empty()) return fail(errc::empty_command, 0);
  const std::size_t sp = verb_end(s);
  const std::string_view verb_text = s.substr(0, sp);
  c.verb_text = verb_text;
  if (sp == 0) return fail(errc::extra_space, 0);
  c.kind = lookup_verb(verb_text);
  const bool has_arg = sp < s.size();
  std::size_t pos = has_arg ? sp + 1 : sp;
  c.argument = s.substr(pos);

  auto no_argument = [&]() -> diagnostic { return expect_end(s, sp, opts); };
  auto need_sp = [&]() -> diagnostic {
    if (!has_arg || pos == s.size()) return fail(errc::missing_argument, sp);
    if (s[pos] == ' ') return fail(errc::extra_space, pos);
    return {};
  };

  diagnostic d;
  switch (detail::argument_of(c.kind)) {
    case detail::argument_kind::none: d = c.kind == verb::unknown ? fail(errc::unknown_verb, 0) : no_argument(); break;
    case detail::argument_kind::hello:
      if ((d = need_sp())) break;
      if constexpr (Fast) {
        if (fast_paths && fast_paths->hello_domain(s, pos, c.client)) break;
      }
      if ((d = detail::scan_host(s, pos, opts, c.client))) break;
      if (c.kind == verb::helo && c.client.kind != host_kind::domain && !opts.allows(lenient::helo_address_literal)) {
        d = fail(errc::helo_address_literal, sp + 1);
        break;
      }
      d = expect_end(s, pos, opts);
      break;
    case detail::argument_kind::path:
      if constexpr (Fast) {
        if (fast_paths) {
          if (fast_paths->mail_rcpt(s, c.kind == verb::mail, c)) break;
          // Not for the fast path: what it may have filled is cleared.
          clear_fields(detail::argument_kind::path, c);
        }
      }
      // The SP belongs to the "MAIL FROM:" literal.
      d = parse_mail_rcpt(s, sp, c.kind == verb::mail, opts, c);
      break;
    case detail::argument_kind::string: {
      const bool required = c.kind == verb::vrfy || c.kind == verb::expn;
      if (!required && (!has_arg || s.find_first_not_of(" \t", sp) == std::string_view::npos)) {
        d = expect_end(s, sp, opts);
        break;
      }
      if ((d = need_sp())) break;
      const std::size_t start = pos;
      if ((d = required ? scan_user_string(s, pos, opts) : scan_string(s, pos, opts))) break;
      c.text = s.substr(start, pos - start);
      // RFC 6531 §3.7.4.2: vrfy = "VRFY" SP String [ SP "SMTPUTF8" ] CRLF
      constexpr std::string_view flag = " SMTPUTF8";
      if (required && opts.smtputf8 && c.text.size() > flag.size() &&
          iequals(c.text.substr(c.text.size() - flag.size()), flag)) {
        c.smtputf8_flag = true;
        c.text.remove_suffix(flag.size());
      }
      d = expect_end(s, pos, opts);
      break;
    }
    case detail::argument_kind::auth:
      if ((d = need_sp())) break;
      d = parse_auth(s, pos, opts, c);
      break;
    case detail::argument_kind::bdat:
      if ((d = need_sp())) break;
      d = parse_bdat(s, pos, opts, c);
      break;
    case detail::argument_kind::count_: break;
  }
  return d;
}

// What a parse may have written is decided by the verb it found: clearing
// those fields alone brings a command back to its default state, most
// often a few of its 432 octets instead of all of them.
void clear_after(command& c) noexcept {
  clear_fields(detail::argument_of(c.kind), c);
  c.kind = verb::unknown;
  c.verb_text = {};
  c.argument = {};
}

}  // namespace

command_result parse_command(std::string_view s, parse_options opts) noexcept {
  command_result r;
  r.diag = parse_into<true>(s, opts, r.cmd);
  return r;
}

diagnostic parse_command(std::string_view s, command& out, parse_options opts) noexcept {
  clear_after(out);
  return parse_into<true>(s, opts, out);
}

command_result detail::parse_command_general(std::string_view s, parse_options opts) noexcept {
  command_result r;
  r.diag = parse_into<false>(s, opts, r.cmd);
  return r;
}

bool detail::command_fast_path_available() noexcept { return fast_paths != nullptr; }

const char* detail::command_fast_path_name() noexcept { return fast_paths ? fast_paths->name : "none"; }

bool detail::use_command_fast_paths(std::string_view name) noexcept {
  if (name == "none") {
    fast_paths = nullptr;
    return true;
  }
  static const auto sets = command_fast_path_sets();
  for (const command_fast_paths* p : sets)
    if (p && name == p->name) {
      fast_paths = p;
      return true;
    }
  return false;
}

bool detail::command_fast_path_takes(std::string_view line) noexcept {
  if (!fast_paths || line.size() < 4) return false;
  command c;
  const verb v = lookup_verb(line.substr(0, 4));
  if (v == verb::ehlo || v == verb::helo)  // after "EHLO" SP, as parse_into calls it
    return line.size() > 5 && line[4] == ' ' && line[5] != ' ' && fast_paths->hello_domain(line, 5, c.client);
  return (v == verb::mail || v == verb::rcpt) && fast_paths->mail_rcpt(line, v == verb::mail, c);
}

}  // namespace smtpkit
