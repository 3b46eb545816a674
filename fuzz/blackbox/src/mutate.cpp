// mutate.cpp — the dialogue mutators (smtpkit/fuzz/dialogue.hpp), and the
// dialogue's size and octets.
//
// The grammar mutator works at five levels: the records (the writes: drop,
// duplicate, repeat, reorder, splice, pipeline, split, delay), the fields of
// one command line (paths, ESMTP parameters, AUTH payloads, EHLO and query
// arguments, BDAT sizes, the message text), the state (commands where the
// server does not expect them, verbs swapped or recased), the line
// (terminators, white space, NUL, length) and, rarely, the octets. Values sit
// at and just past the limits the RFCs set (RFC 5321 §4.5.3.1 and the
// extensions' own), which is where parsers and their buffers break. The byte
// mutator is the baseline: it knows octets and nothing else.
//
// A step that takes the dialogue past its limits, or leaves it empty, is
// undone, so the limits hold after each one. All randomness comes from the
// caller's generator, so one generator state gives one result.
#include "smtpkit/fuzz/dialogue.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpkit::fuzz {

std::size_t dialogue::size() const noexcept {
  std::size_t n = 0;
  for (const auto& w : writes) n += w.bytes.size();
  return n;
}

std::string dialogue::bytes() const {
  std::string out;
  out.reserve(size());
  for (const auto& w : writes) out += w.bytes;
  return out;
}

namespace {

constexpr std::size_t npos = std::string::npos;

// ---- Random choices ----------------------------------------------------------------------------------------------

class dice {
 public:
  explicit dice(std::mt19937_64& g) : g_(g) {}

  std::uint64_t bits() { return g_(); }
  // 0..n-1 (the bias of the modulo is nothing against 2^64); 0 when n is 0.
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(g_() % n); }
  // lo..hi, both included.
  std::size_t between(std::size_t lo, std::size_t hi) { return hi <= lo ? lo : lo + below(hi - lo + 1); }
  bool one_in(std::size_t n) { return below(n) == 0; }
  bool coin() { return (g_() & 1) != 0; }
  template <typename T, std::size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }

 private:
  std::mt19937_64& g_;
};

// ---- Characters and strings -------------------------------------------------------------------------------------

constexpr std::string_view k_alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view k_ldh = "abcdefghijklmnopqrstuvwxyz0123456789-";
// RFC 5322 §3.2.3: the atext beyond letters and digits.
constexpr std::string_view k_atext_special = "!#$%&'*+-/=?^_`{|}~";
constexpr std::string_view k_hex_upper = "0123456789ABCDEF";

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

char one_of(dice& r, std::string_view set) { return set[r.below(set.size())]; }

// A literal's octets, NULs inside included.
template <std::size_t N>
constexpr std::string_view octets_of(const char (&a)[N]) {
  return std::string_view(a, N - 1);
}

std::string run_of(dice& r, std::string_view set, std::size_t n) {
  std::string s(n, ' ');
  for (auto& c : s) c = one_of(r, set);
  return s;
}

char printable(dice& r) { return static_cast<char>(0x20 + r.below(95)); }

char octet(unsigned v) { return static_cast<char>(static_cast<unsigned char>(v)); }

std::string random_octets(dice& r, std::size_t n) {
  std::string s(n, ' ');
  for (auto& c : s) c = octet(static_cast<unsigned>(r.bits() & 0xff));
  return s;
}

// A number from a table of sizes, now and then any number up to `random_max`.
template <std::size_t N>
std::size_t edge_length(dice& r, const std::size_t (&table)[N], std::size_t random_max) {
  return r.one_in(6) ? r.below(random_max + 1) : r.pick(table);
}

// The first space-separated word of a line (its verb).
std::string_view verb_of(std::string_view line) {
  const std::size_t sp = line.find(' ');
  return line.substr(0, sp == npos ? line.size() : sp);
}

// ---- UTF-8 ------------------------------------------------------------------------------------------------------

void put_utf8(std::string& s, std::uint32_t cp) {
  if (cp < 0x80) {
    s += octet(cp);
  } else if (cp < 0x800) {
    s += octet(0xc0 | (cp >> 6));
    s += octet(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += octet(0xe0 | (cp >> 12));
    s += octet(0x80 | ((cp >> 6) & 0x3f));
    s += octet(0x80 | (cp & 0x3f));
  } else {
    s += octet(0xf0 | (cp >> 18));
    s += octet(0x80 | ((cp >> 12) & 0x3f));
    s += octet(0x80 | ((cp >> 6) & 0x3f));
    s += octet(0x80 | (cp & 0x3f));
  }
}

// Octet sequences RFC 3629 §3-4 forbids: overlong forms, lone continuation
// octets, truncated sequences, surrogates, code points past U+10FFFF, the
// octets UTF-8 never uses.
constexpr std::string_view k_bad_utf8[] = {"\xc0\x80",
                                           "\xc1\xbf",
                                           "\x80",
                                           "\xbf",
                                           "\xe2\x82",
                                           "\xed\xa0\x80",
                                           "\xf4\x90\x80\x80",
                                           "\xf8\x88\x80\x80\x80",
                                           "\xfe",
                                           "\xff",
                                           "\xe0\x80\xaf",
                                           "\xf0\x80\x80\xaf"};

// Characters that upset the unprepared: é, 中, an emoji, BOM, zero-width
// space, the replacement character, right-to-left override, NEL, NBSP, LSEP.
constexpr std::uint32_t k_odd_code_points[] = {0xe9,   0x4e2d, 0x1f600, 0xfeff, 0x200b,
                                               0xfffd, 0x202e, 0x85,    0xa0,   0x2028};

// About `octets` octets of UTF-8, a little of it broken.
std::string utf8_text(dice& r, std::size_t octets) {
  std::string s;
  while (s.size() < octets) {
    switch (r.below(9)) {
      case 0: s += static_cast<char>('a' + r.below(26)); break;
      case 1:
      case 2: put_utf8(s, static_cast<std::uint32_t>(0x80 + r.below(0x800 - 0x80))); break;
      case 3:
      case 4: {
        auto cp = static_cast<std::uint32_t>(0x800 + r.below(0x10000 - 0x800));
        if (cp >= 0xd800 && cp < 0xe000) cp = 0x4e2d;
        put_utf8(s, cp);
        break;
      }
      case 5: put_utf8(s, static_cast<std::uint32_t>(0x10000 + r.below(0x110000 - 0x10000))); break;
      case 6:
      case 7: put_utf8(s, r.pick(k_odd_code_points)); break;
      default: s += r.one_in(3) ? r.pick(k_bad_utf8) : std::string_view("\xc3\xa9"); break;
    }
  }
  return s;
}

// ---- Base64 (RFC 4648 §4) ---------------------------------------------------------------------------------------

std::string base64(std::string_view in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto u = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])); };
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (u(i) << 16) | (u(i + 1) << 8) | u(i + 2);
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (in.size() - i == 1) {
    const std::uint32_t v = u(i) << 16;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    const std::uint32_t v = (u(i) << 16) | (u(i + 1) << 8);
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// Base64 a strict decoder refuses: characters outside the alphabet, padding
// missing, misplaced or overlong, a length not a multiple of four.
std::string broken_base64(dice& r, std::string s) {
  static constexpr std::string_view garbage[] = {"====", "A", "AB=C", "A===", "=", "QQ", "QQ=", "QQ==QQ==", "-_-_", ""};
  switch (r.below(6)) {
    case 0: s.insert(r.below(s.size() + 1), 1, one_of(r, "!-_.* \t=@%\\")); break;
    case 1:
      while (!s.empty() && s.back() == '=') s.pop_back();
      if (!s.empty() && r.coin()) s.pop_back();
      break;
    case 2: s.insert(r.below(s.size() + 1), r.coin() ? "=" : "==="); break;
    case 3:
      if (s.size() > 1) s.resize(r.below(s.size()));
      if (s.size() % 4 == 0) s += 'Q';
      break;
    case 4: return std::string(r.pick(garbage));
    default: s.insert(r.below(s.size() + 1), utf8_text(r, r.between(1, 4))); break;
  }
  return s;
}

// ---- Local parts (RFC 5321 §4.1.2, §4.5.3.1.1) ------------------------------------------------------------------

// RFC 5321 §4.5.3.1.1: a local part is at most 64 octets. Lengths at and
// around that, and the sizes programs pick for buffers.
constexpr std::size_t k_local_lengths[] = {0, 1, 63, 64, 65, 66, 70, 80, 100, 127, 128, 129, 255, 256, 257, 512, 1000};

std::string atext(dice& r, std::size_t n) {
  std::string s(n, 'a');
  for (auto& c : s) c = r.one_in(10) ? one_of(r, k_atext_special) : one_of(r, k_alnum);
  return s;
}

// A Dot-string of n octets (RFC 5321 §4.1.2): dots inside, never first,
// last or doubled.
std::string dot_string(dice& r, std::size_t n) {
  std::string s = atext(r, n);
  if (n >= 3) {
    const std::size_t dots = r.below(n / 6 + 1);
    for (std::size_t i = 0; i < dots; ++i) {
      const std::size_t p = r.between(1, n - 2);
      if (s[p - 1] != '.' && s[p + 1] != '.') s[p] = '.';
    }
  }
  return s;
}

// qtextSMTP (RFC 5321 §4.1.2: %d32-33 / %d35-91 / %d93-126), spaces often.
std::string qtext(dice& r, std::size_t n) {
  std::string s(n, ' ');
  for (auto& c : s) {
    if (r.one_in(5)) continue;
    c = printable(r);
    if (c == '"' || c == '\\') c = 'q';
  }
  return s;
}

// quoted-pairSMTP (RFC 5321 §4.1.2: %d92 %d32-126), n of them.
std::string quoted_pairs(dice& r, std::size_t n) {
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s += '\\';
    s += printable(r);
  }
  return s;
}

std::string quoted_local(dice& r) {
  // Octets quoted-pairSMTP leaves out (controls, DEL, 8-bit), which RFC 5322
  // §4.1's obs-qp lets in: parsers disagree about them.
  static constexpr unsigned char odd_escapes[] = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x7f, 0x80, 0xff};
  const std::size_t n = edge_length(r, k_local_lengths, 300);
  switch (r.below(12)) {
    case 0:
    case 1: return "\"" + qtext(r, n) + "\"";
    case 2: return "\"" + quoted_pairs(r, std::max<std::size_t>(1, n / 2)) + "\"";
    case 3:
    case 4:
      // An escaped backslash right before the closing quote: "abc\\". A
      // scanner that takes any backslash-quote for an escaped quote runs on.
      return "\"" + qtext(r, r.one_in(3) ? n : r.below(8)) + "\\\\\"";
    case 5: return r.coin() ? "\"\\\"\"" : "\"\\\"";  // "\"" and "\", whose escape eats the closing quote
    case 6: {
      // A run of backslashes before the closing quote: an odd run escapes it.
      std::string s = "\"" + qtext(r, r.below(10));
      s.append(r.between(1, 9), '\\');
      s += '"';
      if (r.one_in(3)) s += '"';
      return s;
    }
    case 7: {
      const std::string q = qtext(r, r.between(1, 20));
      switch (r.below(4)) {
        case 0: return "\"" + q;
        case 1: return q + "\"";
        case 2: return q.substr(0, q.size() / 2) + "\"" + q.substr(q.size() / 2);
        default: return "\"" + q + "\"\"";
      }
    }
    case 8: return r.coin() ? "\"\"" : "\"a\".b";  // empty, and RFC 5322 §4.4's obs-local-part
    case 9: {
      std::string s = "\"";
      const std::size_t k = r.between(1, 4);
      for (std::size_t i = 0; i < k; ++i) {
        s += qtext(r, r.below(5));
        s += '\\';
        s += static_cast<char>(r.pick(odd_escapes));
      }
      return s + "\"";
    }
    case 10: return "\"" + qtext(r, r.below(6)) + "@" + qtext(r, r.below(6)) + "\"";
    default: return "\"" + utf8_text(r, r.between(1, 80)) + "\"";
  }
}

std::string local_part(dice& r) {
  static constexpr std::string_view named[] = {
      "postmaster", "Postmaster", "POSTMASTER", "abuse", "root", "MAILER-DAEMON", "a+tag", "a%b", "a!b", "-", "~"};
  switch (r.below(13)) {
    case 0:
    case 1:
    case 2:
    case 3: return dot_string(r, edge_length(r, k_local_lengths, 2000));
    case 4:
    case 5:
    case 6: return quoted_local(r);
    case 7: return utf8_text(r, edge_length(r, k_local_lengths, 300));
    case 8: {
      std::string s = dot_string(r, r.between(1, 70));
      switch (r.below(4)) {
        case 0: return "." + s;
        case 1: return s + ".";
        case 2: return s.insert(s.size() / 2, "..");
        default: return ".";
      }
    }
    case 9: {
      // RFC 5322 §3.2.3 specials, white space, controls outside quotes.
      std::string s = dot_string(r, r.between(1, 20));
      s.insert(r.below(s.size() + 1), 1, one_of(r, octets_of("()<>[]:;@\\,\" \t\x7f\x01\0")));
      return s;
    }
    case 10: return std::string(r.pick(named));
    case 11: {
      std::string s = atext(r, edge_length(r, k_local_lengths, 300));
      for (auto& c : s) {
        if (r.one_in(4)) c = octet(static_cast<unsigned>(0x80 + r.below(0x80)));
      }
      return s;
    }
    default: return dot_string(r, r.between(65, 80));
  }
}

// ---- Domains and address literals (RFC 5321 §4.1.2, §4.1.3, §4.5.3.1.2) -----------------------------------------

// A label of n letters, digits and inner hyphens.
std::string label(dice& r, std::size_t n) {
  std::string s = run_of(r, k_ldh, n);
  if (n > 0 && s.front() == '-') s.front() = 'a';
  if (n > 0 && s.back() == '-') s.back() = 'z';
  return s;
}

// A domain of exactly n octets, labels of at most `most` octets (RFC 1035
// §2.3.4: 63) between dots.
std::string domain_of(dice& r, std::size_t n, std::size_t most = 63) {
  std::string s;
  s.reserve(n + most + 1);
  while (s.size() < n) {
    if (!s.empty()) s += '.';
    s += label(r, r.between(std::min<std::size_t>(most, 1), most));
  }
  s.resize(n);
  if (n >= 2 && s.back() == '.') {
    s[n - 2] = '.';
    s[n - 1] = 'x';
  }
  return s;
}

std::string ipv4_text(dice& r) {
  return std::to_string(r.below(256)) + "." + std::to_string(r.below(256)) + "." + std::to_string(r.below(256)) + "." +
         std::to_string(r.below(256));
}

// RFC 5321 §4.1.3 IPv6-address-literal; RFC 4291 §2.2 gives its text: eight
// groups of one to four hex digits, one "::" for a run of zero groups, an
// IPv4 tail standing for the last two. Here: 0 to 12 groups, groups of 0-5
// digits, no, one or several "::", the tag spelt variously; half the time
// only the count varies, at the limit (7 to 10 well-formed groups, the rest
// as the RFC has it), since a parser that stores groups breaks there.
std::string ipv6_literal(dice& r) {
  static constexpr std::string_view tags[] = {
      "ipv6:", "IPV6:", "Ipv6:", "IPv6", "IPv6::", "IPv4:", "IPv6 :", "IPv66:", ""};
  if (r.coin()) {
    std::string s = "[IPv6:";
    const std::size_t k = r.between(7, 10);
    for (std::size_t i = 0; i < k; ++i) {
      if (i > 0) s += ':';
      const std::size_t digits = r.between(1, 4);
      for (std::size_t j = 0; j < digits; ++j) s += one_of(r, "0123456789abcdefABCDEF");
    }
    return s + "]";
  }
  std::string s = "[";
  s += r.one_in(4) ? r.pick(tags) : std::string_view("IPv6:");
  const std::size_t k = r.below(13);
  std::vector<bool> dbl(k + 1, false);  // dbl[i]: "::" before group i (i == k: at the end)
  const std::size_t mode = r.below(10);
  if (mode >= 4) dbl[r.below(k + 1)] = true;
  if (mode >= 8) {
    const std::size_t more = r.between(1, 3);
    for (std::size_t i = 0; i < more; ++i) dbl[r.below(k + 1)] = true;
  }
  for (std::size_t i = 0; i < k; ++i) {
    if (i == 0) {
      if (dbl[0]) s += "::";
    } else {
      s += dbl[i] ? "::" : ":";
    }
    const std::size_t digits = r.one_in(10) ? 5 : (r.one_in(25) ? 0 : r.between(1, 4));
    for (std::size_t j = 0; j < digits; ++j) s += r.one_in(40) ? 'g' : one_of(r, "0123456789abcdefABCDEF");
  }
  if (dbl[k]) s += "::";
  if (r.one_in(4)) {
    if (k > 0 && !dbl[k]) s += ':';
    s += r.one_in(4) ? std::string("256.1.2") : ipv4_text(r);
  }
  if (!r.one_in(20)) s += ']';
  return s;
}

// RFC 5321 §4.1.3 address literals, well and badly formed.
std::string address_literal(dice& r) {
  static constexpr std::string_view bad_v4[] = {"256.1.1.1",       "1.2.3",      "1.2.3.4.5", "01.2.3.4",   "1..2.3",
                                                "999.999.999.999", "4294967296", "1.2.3.4 ",  "",           "-1.2.3.4",
                                                "0x7f.0.0.1",      "1.2.3.256",  " 1.2.3.4",  "1.2.3.4:25", "127.1"};
  static constexpr std::string_view broken[] = {"[",        "[]",        "[[1.2.3.4]]", "[1.2.3.4]]",
                                                "1.2.3.4]", "[IPv6:::1", "[IPv6:",      "[IPv6:]",
                                                "[:]",      "[1.2.3.4",  "[\\]]",       "[a]b]"};
  static constexpr std::string_view general_tags[] = {"x-foo", "X", "a-b-c", "", "-", "foo-", "1", "IPv6x"};
  switch (r.below(12)) {
    case 0:
    case 1: return "[" + ipv4_text(r) + "]";
    case 2: return "[" + std::string(r.pick(bad_v4)) + "]";
    case 3:
    case 4:
    case 5:
    case 6: return ipv6_literal(r);
    case 7: {
      // General-address-literal: Standardized-tag ":" 1*dcontent, dcontent
      // being %d33-90 / %d94-126.
      std::string tag = r.one_in(4) ? label(r, r.pick(k_local_lengths)) : std::string(r.pick(general_tags));
      std::string content;
      const std::size_t n = r.one_in(4) ? r.pick(k_local_lengths) : r.between(0, 20);
      for (std::size_t i = 0; i < n; ++i) {
        char c = static_cast<char>(33 + r.below(94));
        if (c == '[' || c == ']' || c == '\\') c = 'd';
        content += c;
      }
      return "[" + tag + ":" + content + "]";
    }
    case 8: return std::string(r.pick(broken));
    case 9: {
      std::string s = "[";
      const std::size_t n = r.pick(k_local_lengths);
      for (std::size_t i = 0; i < n; ++i) s += one_of(r, "0123456789.");
      return s + "]";
    }
    case 10: return "[" + utf8_text(r, r.between(1, 20)) + "]";
    default: return "[IPv6:" + std::string(r.coin() ? "::ffff:" : "1:2:3:4:5:6:") + ipv4_text(r) + "]";
  }
}

// RFC 5321 §4.5.3.1.2: a domain is at most 255 octets; RFC 1035 §2.3.4: a
// label at most 63.
constexpr std::size_t k_domain_lengths[] = {253, 254, 255, 256, 257, 258, 300, 512, 1000};
constexpr std::size_t k_label_lengths[] = {62, 63, 64, 65, 127, 128, 255, 256};
constexpr std::size_t k_label_counts[] = {10, 63, 64, 126, 127, 128, 129, 200, 500};

std::string domain(dice& r) {
  static constexpr std::string_view empty_labels[] = {"a..b.test", ".a.test", "a.test.", ".",      "..",
                                                      "a.",        "",        "a...",    "...test"};
  static constexpr std::string_view hyphens[] = {"-a.test",   "a-.test",     "a.-b.test",   "a.b-.test", "a--b.test",
                                                 "xn--.test", "xn--zz.test", "xn--a-.test", "-",         "a.-"};
  static constexpr std::string_view numeric[] = {"1.2.3.4", "123", "0x7f.0.0.1", "1", "4294967296", "test.123"};
  switch (r.below(12)) {
    case 0: {
      const std::string l = label(r, r.pick(k_label_lengths));
      return r.coin() ? l + ".test" : "a." + l + ".test";
    }
    case 1: return domain_of(r, edge_length(r, k_domain_lengths, 1200));
    case 2: {
      const std::size_t n = r.pick(k_label_counts);
      std::string s;
      for (std::size_t i = 0; i < n; ++i) s += label(r, r.between(1, 3)) + ".";
      return s + "test";
    }
    case 3: return std::string(r.pick(empty_labels));
    case 4: return std::string(r.pick(hyphens));
    case 5: return std::string(r.pick(numeric));
    case 6: return utf8_text(r, r.between(1, 60)) + ".test";
    case 7: {
      std::string s = "a.test";
      s.insert(1, 1, one_of(r, octets_of(" _<>@\"\\,:;()\t%!\0")));
      return s;
    }
    default: return address_literal(r);
  }
}

// ---- ESMTP parameters (RFC 5321 §4.1.2 Mail-parameters and the extensions) ---------------------------------------

// Numbers where integer types end: 2^31, 2^32, 2^53, 2^63, 2^64, 20 and 21
// digits; and things that are not numbers.
constexpr std::string_view k_edge_numbers[] = {"0",
                                               "1",
                                               "2147483647",
                                               "2147483648",
                                               "4294967295",
                                               "4294967296",
                                               "4294967297",
                                               "9007199254740992",
                                               "9223372036854775807",
                                               "9223372036854775808",
                                               "18446744073709551615",
                                               "18446744073709551616",
                                               "18446744073709551617",
                                               "99999999999999999999",
                                               "100000000000000000000",
                                               "-1",
                                               "-2147483648",
                                               "0000000000000000000000001",
                                               "",
                                               "12a",
                                               "0x10",
                                               "1e9",
                                               "+1",
                                               "1.5",
                                               " 1"};

std::string edge_number(dice& r) {
  switch (r.below(10)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4: return std::string(r.pick(k_edge_numbers));
    case 5: {
      // Anywhere in [2^32, 2^64): past 32 bits, inside 64.
      const std::uint64_t v = (std::uint64_t{1} << 32) + r.bits() % (~std::uint64_t{0} - (std::uint64_t{1} << 32));
      return std::to_string(v);
    }
    case 6: return "1" + run_of(r, "0123456789", r.between(20, 400));
    case 7: return std::string(r.between(1, 30), '0') + std::string(r.pick(k_edge_numbers));
    case 8: return std::to_string(r.bits() >> r.below(64));
    default: return std::to_string(r.below(100000));
  }
}

// RFC 3461 §4 xtext: xchar (%d33-126 but "+" and "=") and hexchar ("+"
// two upper-case hex digits). Here also "+ZZ", lower-case hex, a raw "=",
// 8-bit octets and a "+" cut short at the end.
std::string xtext(dice& r, std::size_t units) {
  std::string s;
  for (std::size_t i = 0; i < units; ++i) {
    const std::size_t k = r.below(20);
    if (k < 12) {
      char c = static_cast<char>(33 + r.below(94));
      if (c == '+' || c == '=') c = 'x';
      s += c;
    } else if (k < 16) {
      s += '+';
      s += one_of(r, k_hex_upper);
      s += one_of(r, k_hex_upper);
    } else if (k == 16) {
      s += r.coin() ? "+ZZ" : "+zz";
    } else if (k == 17) {
      s += "+2b";
    } else if (k == 18) {
      s += '=';
    } else {
      s += octet(static_cast<unsigned>(0x80 + r.below(0x80)));
    }
  }
  if (r.one_in(5)) s += r.coin() ? "+4" : "+";
  return s;
}

std::string esmtp_param(dice& r) {
  static constexpr std::string_view bodies[] = {"7BIT", "8BITMIME", "BINARYMIME", "bogus", "", "8bitmime", "7BIT8BIT"};
  static constexpr std::string_view rets[] = {"FULL", "HDRS", "full", "bogus", "", "FULL,HDRS"};
  static constexpr std::string_view notifies[] = {
      "NEVER",    "SUCCESS",  "FAILURE", "DELAY", "SUCCESS,FAILURE,DELAY", "NEVER,SUCCESS", "SUCCESS,SUCCESS", "", ",",
      "SUCCESS,", ",FAILURE", "bogus",   "never", "SUCCESS,,DELAY"};
  static constexpr std::string_view bare[] = {
      "SIZE", "SIZE=",     "BODY", "BODY=",   "RET=", "ENVID=",     "NOTIFY=", "ORCPT=",     "AUTH=",
      "=",    "SMTPUTF8=", "==",   "SIZE==1", "=1",   "REQUIRETLS", "HOLDFOR", "MT-PRIORITY"};
  static constexpr std::string_view others[] = {"REQUIRETLS",
                                                "MT-PRIORITY=-9",
                                                "MT-PRIORITY=10",
                                                "MT-PRIORITY=x",
                                                "BY=120;R",
                                                "BY=-1;N",
                                                "BY=0;RT",
                                                "BY=120;X",
                                                "HOLDFOR=0",
                                                "HOLDUNTIL=2038-01-19T03:14:08Z",
                                                "RRVS=2030-01-01T00:00:00Z;R",
                                                "CONPERM",
                                                "CONNEG",
                                                "MTRK=x",
                                                "DSN",
                                                "X-FOO=bar",
                                                "XFOO",
                                                "x-=y",
                                                "X_FOO=bar",
                                                "X-FOO=b a r"};
  static constexpr std::string_view keywords[] = {"SIZE", "BODY", "ENVID", "ORCPT", "AUTH", "X-FOO", "NOTIFY"};
  switch (r.below(15)) {
    case 0:
    case 1: return "SIZE=" + edge_number(r);               // RFC 1870 §6
    case 2: return "BODY=" + std::string(r.pick(bodies));  // RFC 6152 §3, RFC 3030 §3
    case 3: {
      // RFC 6531 §3.4: SMTPUTF8 takes no value.
      static constexpr std::string_view values[] = {"", "yes", "1", "SMTPUTF8"};
      return r.coin() ? "SMTPUTF8" : "SMTPUTF8=" + std::string(r.pick(values));
    }
    case 4: return "RET=" + std::string(r.pick(rets));  // RFC 3461 §4.3
    case 5: {
      // RFC 3461 §4.4: ENVID is xtext of at most 100 characters.
      return "ENVID=" + xtext(r, r.one_in(4) ? r.pick(k_local_lengths) : r.between(0, 20));
    }
    case 6: return "NOTIFY=" + std::string(r.pick(notifies));  // RFC 3461 §4.1
    case 7: {
      // RFC 3461 §4.2 ORCPT=addr-type ";" xtext; RFC 6533 §3 utf-8-addr-xtext.
      switch (r.below(6)) {
        case 0:
        case 1: return "ORCPT=rfc822;" + xtext(r, r.between(1, 40)) + "@" + domain_of(r, r.between(1, 30));
        case 2: return "ORCPT=rfc822;";
        case 3: return "ORCPT=utf-8;" + std::string(r.coin() ? "\\x{E9}" : "\\x{") + utf8_text(r, 8) + "@x.test";
        case 4: return "ORCPT=rfc822" + xtext(r, 4);
        default: return "ORCPT=bogus;" + xtext(r, r.pick(k_local_lengths));
      }
    }
    case 8: {
      // RFC 4954 §5: AUTH=<> or AUTH=xtext (a mailbox).
      switch (r.below(4)) {
        case 0: return "AUTH=<>";
        case 1: return "AUTH=" + xtext(r, r.between(1, 30)) + "@x.test";
        case 2: return "AUTH=<";
        default: return "AUTH=" + xtext(r, r.pick(k_local_lengths));
      }
    }
    case 9: return label(r, r.between(1, 12)) + "=" + xtext(r, r.between(0, 10));
    case 10: return std::string(r.pick(bare));
    case 11: return std::string(r.pick(others));
    case 12: return std::string(r.pick(keywords)) + "=" + xtext(r, r.between(1000, 4000));
    case 13: return label(r, r.pick(k_label_lengths)) + "=x";
    default: return "X-" + utf8_text(r, r.between(1, 10)) + "=" + utf8_text(r, r.between(1, 10));
  }
}

// ---- SASL (RFC 4954, RFC 4616) ----------------------------------------------------------------------------------

// RFC 4616 §2: authzid, authcid and passwd are each at most 255 octets.
constexpr std::size_t k_sasl_lengths[] = {0, 1, 64, 254, 255, 256, 257, 512, 1024, 4096};

std::string sasl_field(dice& r) {
  const std::size_t n = r.one_in(5) ? r.below(300) : r.pick(k_sasl_lengths);
  switch (r.below(7)) {
    case 0: return utf8_text(r, n);
    case 1: {
      // Control octets (NUL aside: it separates the fields), DEL, 0xff.
      std::string s = run_of(r, k_alnum, n);
      for (auto& c : s) {
        if (!r.one_in(6)) continue;
        c = r.one_in(4) ? octet(r.coin() ? 0x7f : 0xff) : octet(static_cast<unsigned>(1 + r.below(31)));
      }
      return s;
    }
    case 2: return dot_string(r, n) + (n > 0 && r.coin() ? "@x.test" : "");
    default: return run_of(r, k_alnum, n);
  }
}

// A SASL PLAIN message (RFC 4616 §2: [authzid] NUL authcid NUL passwd), or
// one with NULs missing or extra.
std::string plain_message(dice& r) {
  const std::string a = sasl_field(r), c = sasl_field(r), p = sasl_field(r);
  const std::string nul(1, '\0');
  switch (r.below(10)) {
    case 6: return c + nul + p;
    case 7: return r.coin() ? a + c + p : a + c + p + nul;
    case 8: {
      switch (r.below(4)) {
        case 0: return nul + nul + c + nul + p;
        case 1: return a + nul + c + nul + p + nul;
        case 2: return a + nul + c + nul + p + nul + sasl_field(r);
        default: return a + nul + nul + c + nul + p;
      }
    }
    case 9: {
      static constexpr std::string_view tiny[] = {std::string_view("\0", 1), "", std::string_view("\0\0", 2),
                                                  std::string_view("\0\0\0", 3)};
      return std::string(r.pick(tiny));
    }
    default: return a + nul + c + nul + p;
  }
}

// The writes of one AUTH exchange, CRLF included (RFC 4954 §4: the initial
// response, "=" for an empty one, "*" to cancel, base64 lines after 334).
std::vector<std::string> auth_exchange(dice& r) {
  static constexpr std::string_view mechanisms[] = {
      "FOO",   "CRAM-MD5", "DIGEST-MD5",  "GSSAPI", "NTLM",      "XOAUTH2",  "SCRAM-SHA-1", "plain",
      "login", "",         "PLAIN PLAIN", "PLAIN-", "ANONYMOUS", "EXTERNAL", "OAUTHBEARER"};
  const std::string crlf = "\r\n";
  std::vector<std::string> w;
  switch (r.below(13)) {
    case 0:
    case 1:
    case 2:
    case 3: w = {"AUTH PLAIN " + base64(plain_message(r)) + crlf}; break;
    case 4: w = {"AUTH PLAIN" + crlf, base64(plain_message(r)) + crlf}; break;
    case 5:
      if (r.coin()) {
        w = {"AUTH LOGIN" + crlf, base64(sasl_field(r)) + crlf, base64(sasl_field(r)) + crlf};
      } else {
        w = {"AUTH LOGIN " + base64(sasl_field(r)) + crlf, base64(sasl_field(r)) + crlf};
      }
      break;
    case 6:
      switch (r.below(3)) {
        case 0: w = {"AUTH PLAIN =" + crlf}; break;
        case 1: w = {"AUTH PLAIN" + crlf, "=" + crlf}; break;
        default: w = {"AUTH LOGIN =" + crlf, "=" + crlf, "=" + crlf}; break;
      }
      break;
    case 7:
      switch (r.below(3)) {
        case 0: w = {"AUTH PLAIN" + crlf, "*" + crlf}; break;
        case 1: w = {"AUTH LOGIN" + crlf, base64(sasl_field(r)) + crlf, "*" + crlf}; break;
        default: w = {"AUTH PLAIN *" + crlf}; break;
      }
      break;
    case 8:
      if (r.coin()) {
        w = {"AUTH PLAIN " + broken_base64(r, base64(plain_message(r))) + crlf};
      } else {
        w = {"AUTH " + std::string(r.coin() ? "PLAIN" : "LOGIN") + crlf,
             broken_base64(r, base64(sasl_field(r))) + crlf};
      }
      break;
    case 9: {
      std::string mech = r.one_in(5) ? (r.coin() ? label(r, r.pick(k_local_lengths)) : utf8_text(r, 12))
                                     : std::string(r.pick(mechanisms));
      w = {"AUTH " + mech + (r.coin() ? " " + base64(random_octets(r, r.between(1, 64))) : "") + crlf};
      break;
    }
    case 10:
      // One long line: RFC 4954 §4 lifts the 512-octet limit of RFC 5321
      // §4.5.3.1.4 for AUTH, and 12288 is the usual buffer.
      if (r.coin()) {
        w = {"AUTH PLAIN " + base64(random_octets(r, r.between(3000, 12000))) + crlf};
      } else {
        w = {"AUTH PLAIN " + std::string(r.between(8000, 20000), 'A') + crlf};
      }
      break;
    case 11:
      if (r.coin()) {
        // RFC 2195: "user" SP 32 lower-case hex digits.
        w = {"AUTH CRAM-MD5" + crlf,
             base64(sasl_field(r) + " " + run_of(r, "0123456789abcdef", r.coin() ? 32 : 31)) + crlf};
      } else {
        w = {"AUTH NTLM " + base64(std::string("NTLMSSP\0", 8) + random_octets(r, r.between(0, 300))) + crlf};
      }
      break;
    default: w = {"AUTH" + crlf}; break;
  }
  if (w.size() > 1 && r.one_in(5)) {
    // All of it in one write, as a client that does not wait for the 334.
    std::string all;
    for (const auto& s : w) all += s;
    w = {all};
  }
  return w;
}

// ---- Message text (RFC 5321 §4.1.1.4, §4.5.2; RFC 5322 §2.1.1) ---------------------------------------------------

// RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets with its CRLF;
// RFC 5322 §2.1.1: at most 998 before it.
constexpr std::size_t k_text_line_lengths[] = {997, 998, 999, 1000, 1001, 1002, 2048, 4096, 10000};

// End-of-data lookalikes: the "\r\n.\r\n" of RFC 5321 §4.1.1.4 with bare
// CRs or LFs (the SMTP smuggling family), or whole.
constexpr std::string_view k_end_variants[] = {"\n.\n",   "\r.\r", "\n.\r\n",   "\r\n.\n", "\r.\r\n",
                                               "\r\n.\r", "\n.\r", "\r\n.\r\n", "\n.",     "\r\n..\r\n"};
// The same that only work at the start of a line.
constexpr std::string_view k_line_end_variants[] = {".\r\n", ".\n", ".\r", ". \r\n", ".\r\r\n"};
constexpr std::string_view k_smuggled[] = {
    "NOOP\r\n", "RSET\r\n",       "QUIT\r\n", "MAIL FROM:<x@y.test>\r\n", "RCPT TO:<z@y.test>\r\n",
    "DATA\r\n", "EHLO x.test\r\n"};

std::string header_block(dice& r) {
  static constexpr std::string_view names[] = {"Subject",       "From",     "To",           "Cc",     "Message-ID",
                                               "Date",          "Received", "Content-Type", "X-Test", "Reply-To",
                                               "DKIM-Signature"};
  std::string h;
  switch (r.below(7)) {
    case 0: h = "Subject: " + qtext(r, r.between(1, 40)) + "\r\n"; break;
    case 1: {
      const std::size_t n = r.pick(k_label_counts);
      for (std::size_t i = 0; i < n; ++i) h += std::string(r.pick(names)) + ": " + label(r, r.between(1, 8)) + "\r\n";
      break;
    }
    case 2:
      if (r.coin()) {
        h = "Subject: " + run_of(r, k_alnum, r.pick(k_text_line_lengths)) + "\r\n";
      } else {
        h = label(r, r.pick(k_text_line_lengths)) + ": x\r\n";
      }
      break;
    case 3: {
      // RFC 5322 §2.2.3 folding, with empty and white-space-only continuations.
      static constexpr std::string_view folds[] = {"Subject: a\r\n\tb\r\n c\r\n", "Subject:\r\n \r\n",
                                                   " leading: fold\r\nSubject: x\r\n", "Subject: a\r\n\r\n b\r\n",
                                                   "Subject: a\r\n \r\n \r\n \r\n"};
      h = std::string(r.pick(folds));
      break;
    }
    case 4: {
      static constexpr std::string_view odd[] = {"NoColonHere\r\n",
                                                 ": empty name\r\n",
                                                 "From x@y Mon Jan 1\r\n",
                                                 "Subject : spaced\r\n",
                                                 "Sub ject: x\r\n",
                                                 "Subject:\r\n",
                                                 "Subject: =?utf-8?B?" /* no end */ "w6k\r\n",
                                                 "Subject: =?x?Q?=ZZ?=\r\n"};
      h = std::string(r.pick(odd));
      if (r.coin()) h += "Subject: " + utf8_text(r, r.between(1, 40)) + "\r\n";
      break;
    }
    case 5: {
      // MIME (RFC 2046 §5.1.1): boundaries of 70 octets and past, parts not closed.
      std::string b = r.coin() ? label(r, r.pick(k_local_lengths)) : std::string(r.coin() ? "" : "b");
      h = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + b + "\"\r\n";
      return h + "\r\n--" + b + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
             broken_base64(r, base64(random_octets(r, r.between(1, 60)))) + "\r\n" +
             (r.coin() ? "--" + b + "--\r\n" : std::string());
    }
    default: h = "Subject: x\r\nFrom: <a@b.test>\r\n"; break;
  }
  return h + "\r\n" + (r.coin() ? "body\r\n" : qtext(r, r.between(0, 60)) + "\r\n");
}

// ---- Lines within writes ----------------------------------------------------------------------------------------

struct line_ref {
  std::size_t w = 0;      // the write
  std::size_t begin = 0;  // its first octet
  std::size_t end = 0;    // one past its last octet, before the terminator
  std::size_t next = 0;   // one past the terminator ("\n" or "\r\n"; nothing at the end of a write)
};

// Calls f(line_ref) for each line of a write until f returns false.
template <typename F>
void each_line(const std::string& s, std::size_t w, F&& f) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t nl = s.find('\n', pos);
    line_ref l{w, pos, s.size(), s.size()};
    if (nl != npos) {
      l.end = nl > pos && s[nl - 1] == '\r' ? nl - 1 : nl;
      l.next = nl + 1;
    }
    if (!f(l)) return;
    pos = l.next;
  }
}

// The last line of a write, without its terminator.
std::string_view last_line(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  const std::size_t nl = s.rfind('\n');
  return nl == npos ? s : s.substr(nl + 1);
}

// The span of the path in a MAIL or RCPT line: "<...>" (angled) or a bare
// word after the colon.
struct path_span {
  std::size_t begin = 0, end = 0;              // the whole path in the line
  std::size_t inner_begin = 0, inner_end = 0;  // inside the angle brackets
};

path_span find_path(std::string_view line) {
  std::size_t p = line.find(':');
  if (p == npos) {
    p = line.find(' ');
    if (p == npos) p = line.size();
  } else {
    ++p;
  }
  while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
  path_span ps{p, p, p, p};
  if (p < line.size() && line[p] == '<') {
    ps.inner_begin = p + 1;
    bool quoted = false;
    for (std::size_t i = p + 1; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == '>') {
        ps.inner_end = i;
        ps.end = i + 1;
        return ps;
      }
    }
    // No closing bracket: up to the next space.
    const std::size_t sp = line.find(' ', p);
    ps.end = ps.inner_end = sp == npos ? line.size() : sp;
    return ps;
  }
  const std::size_t sp = line.find(' ', p);
  ps.end = ps.inner_end = sp == npos ? line.size() : sp;
  return ps;
}

// Where a source route ("@a,@b:") ends in the inside of a path.
std::size_t route_end(std::string_view inner) {
  if (inner.empty() || inner[0] != '@') return 0;
  const std::size_t c = inner.find(':');
  return c == npos ? 0 : c + 1;
}

// A copy of a RCPT write whose local part carries `index`, so that repeated
// recipients are distinct; other writes come back as they are.
std::string with_index(const std::string& bytes, std::size_t index) {
  const std::size_t nl = bytes.find('\n');
  std::size_t end = nl == npos ? bytes.size() : nl;
  if (end > 0 && end < bytes.size() && bytes[end - 1] == '\r') --end;
  const std::string_view line(bytes.data(), end);
  if (!iequals(verb_of(line), "RCPT")) return bytes;
  const path_span ps = find_path(line);
  const std::string_view inner = line.substr(ps.inner_begin, ps.inner_end - ps.inner_begin);
  const std::size_t at = inner.rfind('@');
  std::size_t where = ps.inner_end;
  if (at != npos && at >= route_end(inner) && at > 0) {
    where = ps.inner_begin + at;
    if (inner[at - 1] == '"') --where;
  }
  std::string out = bytes;
  out.insert(where, std::to_string(index));
  return out;
}

// ---- Byte-level mutation ----------------------------------------------------------------------------------------

// Octets parsers treat specially.
constexpr unsigned char k_interesting[] = {0x00, 0xff, '\r', '\n', 0x7f, 0x80, ' ',  '.', ':', '<',
                                           '>',  '@',  '"',  '\\', '=',  '\t', 0xc0, '+', ',', ';'};

// Octets of several writes as one string, with the length of each write, so
// a mutation keeps the write boundaries where the octets around them stay.
struct octet_run {
  std::string s;
  std::vector<std::size_t> lens;

  // The write that holds position p (an insertion at the very end goes to the last).
  std::size_t owner(std::size_t p) const {
    std::size_t start = 0;
    for (std::size_t i = 0; i < lens.size(); ++i) {
      if (p < start + lens[i]) return i;
      start += lens[i];
    }
    return lens.empty() ? 0 : lens.size() - 1;
  }
  void insert(std::size_t p, std::string_view what) {
    if (lens.empty() || what.empty()) return;
    p = std::min(p, s.size());
    lens[owner(p)] += what.size();
    s.insert(p, what);
  }
  void erase(std::size_t p, std::size_t n) {
    if (p >= s.size()) return;
    n = std::min(n, s.size() - p);
    std::size_t start = 0;
    for (auto& len : lens) {
      const std::size_t lo = std::max(start, p), hi = std::min(start + len, p + n);
      start += len;
      if (lo < hi) len -= hi - lo;
    }
    s.erase(p, n);
  }
};

void byte_op(dice& r, octet_run& o) {
  if (o.s.empty()) {
    o.insert(0, random_octets(r, r.between(1, 8)));
    return;
  }
  const std::size_t size = o.s.size();
  const std::size_t p = r.below(size);
  // A range length, mostly short.
  auto span = [&](std::size_t most) {
    const std::size_t cap = r.one_in(8) ? most : std::min<std::size_t>(most, 16);
    return r.between(1, std::max<std::size_t>(cap, 1));
  };
  switch (r.below(7)) {
    case 0: o.s[p] = static_cast<char>(o.s[p] ^ static_cast<char>(1u << r.below(8))); break;
    case 1: o.s[p] = octet(static_cast<unsigned>(r.bits() & 0xff)); break;
    case 2: o.insert(r.below(size + 1), random_octets(r, r.between(1, 8))); break;
    case 3: o.erase(p, span(size - p)); break;
    case 4: {
      const std::string piece = o.s.substr(p, span(size - p));
      o.insert(r.coin() ? p + piece.size() : r.below(size + 1), piece);
      break;
    }
    case 5: {
      const std::string piece = o.s.substr(p, span(size - p));
      const std::size_t to = r.below(size);
      o.s.replace(to, std::min(piece.size(), size - to), piece.substr(0, size - to));
      break;
    }
    default: o.insert(r.below(size + 1), std::string(1, static_cast<char>(r.pick(k_interesting)))); break;
  }
}

// ---- The mutator ------------------------------------------------------------------------------------------------

enum class op : std::uint8_t {
  drop,
  duplicate,
  repeat,
  swap,
  move,
  splice,
  merge,
  split,
  delay,
  path,
  params,
  auth,
  helo,
  query,
  bdat,
  data,
  insert,
  verb_case,
  verb_swap,
  line,
  bytes,
};

struct weighted_op {
  op what;
  unsigned weight;
};

// Grammar-level mutations weigh most; octets come last (about a tenth).
constexpr weighted_op k_ops[] = {
    {op::drop, 4},      {op::duplicate, 3}, {op::repeat, 5}, {op::swap, 2},  {op::move, 2},   {op::splice, 3},
    {op::merge, 3},     {op::split, 3},     {op::delay, 2},  {op::path, 10}, {op::params, 8}, {op::auth, 5},
    {op::helo, 4},      {op::query, 4},     {op::bdat, 5},   {op::data, 7},  {op::insert, 6}, {op::verb_case, 2},
    {op::verb_swap, 3}, {op::line, 8},      {op::bytes, 10},
};

constexpr unsigned total_weight() {
  unsigned t = 0;
  for (const auto& o : k_ops) t += o.weight;
  return t;
}

// RFC 5321 §4.5.3.1.8 asks for room for 100 recipients: 100 and 101 are
// here with the powers of two and their neighbours.
constexpr std::size_t k_repeat_counts[] = {2, 3, 5, 10, 16, 17, 20, 32, 50, 100, 101, 110, 128, 200};

constexpr std::string_view k_verbs[] = {"EHLO", "HELO", "LHLO", "MAIL", "RCPT",    "DATA",     "BDAT", "RSET",
                                        "VRFY", "EXPN", "HELP", "NOOP", "QUIT",    "STARTTLS", "AUTH", "TURN",
                                        "ETRN", "ATRN", "BURL", "SEND", "XCLIENT", "XFORWARD", "X",    "XYZZY"};

class mutator {
 public:
  mutator(dialogue& d, const dialogue* donor, std::mt19937_64& g, const mutate_limits& lim)
      : d_(d),
        donor_(donor),
        r_(g),
        max_octets_(std::max<std::size_t>(lim.max_octets, 1)),
        max_writes_(std::max<std::size_t>(lim.max_writes, 1)),
        max_pause_(lim.max_pause_ms) {}

  void run(mutator_kind kind) {
    normalize();
    static constexpr std::size_t stacks[] = {1, 1, 1, 1, 2, 2, 2, 3, 3, 4};
    const std::size_t steps = r_.pick(stacks);
    for (std::size_t i = 0; i < steps; ++i) {
      dialogue before = d_;
      bool done = false;
      if (kind == mutator_kind::grammar) {
        for (int attempt = 0; attempt < 4 && !done; ++attempt) done = grammar_step();
      }
      if (!done) bytes_step();
      tidy();
      if (!fits()) d_ = std::move(before);
    }
  }

 private:
  // ---- Keeping the dialogue within bounds ----

  void tidy() {
    std::erase_if(d_.writes, [](const write& w) { return w.bytes.empty(); });
    for (auto& w : d_.writes) w.pause_ms = std::min(w.pause_ms, max_pause_);
  }

  bool fits() const { return !d_.writes.empty() && d_.writes.size() <= max_writes_ && d_.size() <= max_octets_; }

  // What the caller gave, cut to the limits, never empty.
  void normalize() {
    tidy();
    if (d_.writes.size() > max_writes_) d_.writes.resize(max_writes_);
    std::size_t size = d_.size();
    while (size > max_octets_ && !d_.writes.empty()) {
      std::string& last = d_.writes.back().bytes;
      const std::size_t cut = std::min(size - max_octets_, last.size());
      last.resize(last.size() - cut);
      size -= cut;
      if (last.empty()) d_.writes.pop_back();
    }
    if (d_.writes.empty()) d_.writes.push_back({std::string("NOOP\r\n").substr(0, max_octets_), 0});
  }

  std::size_t room() const {
    const std::size_t size = d_.size();
    return size < max_octets_ ? max_octets_ - size : 0;
  }

  // ---- Finding things ----

  std::string_view text(const line_ref& l) const {
    return std::string_view(d_.writes[l.w].bytes).substr(l.begin, l.end - l.begin);
  }

  template <typename F>
  std::vector<line_ref> lines_where(F&& want) const {
    std::vector<line_ref> out;
    for (std::size_t w = 0; w < d_.writes.size(); ++w) {
      each_line(d_.writes[w].bytes, w, [&](const line_ref& l) {
        if (want(text(l))) out.push_back(l);
        return out.size() < 4096;
      });
    }
    return out;
  }

  std::vector<line_ref> lines_with_verb(std::initializer_list<std::string_view> verbs) const {
    return lines_where([&](std::string_view line) {
      const std::string_view v = verb_of(line);
      for (auto want : verbs) {
        if (iequals(v, want)) return true;
      }
      return false;
    });
  }

  std::vector<line_ref> lines_of(std::size_t w) const {
    std::vector<line_ref> out;
    each_line(d_.writes[w].bytes, w, [&](const line_ref& l) {
      out.push_back(l);
      return out.size() < 4096;
    });
    return out;
  }

  // The first write whose first line has one of these verbs, or npos.
  std::size_t first_write_with(std::initializer_list<std::string_view> verbs) const {
    for (std::size_t w = 0; w < d_.writes.size(); ++w) {
      const std::string& s = d_.writes[w].bytes;
      const std::string_view v = verb_of(std::string_view(s).substr(0, std::min(s.find_first_of("\r\n"), s.size())));
      for (auto want : verbs) {
        if (iequals(v, want)) return w;
      }
    }
    return npos;
  }

  // Where a command the session needs after the greeting goes: after the
  // EHLO most of the time, anywhere otherwise.
  std::size_t after_hello() {
    const std::size_t h = first_write_with({"EHLO", "HELO", "LHLO"});
    if (h != npos && !r_.one_in(4)) return h + 1;
    return r_.below(d_.writes.size() + 1);
  }

  void replace(const line_ref& l, std::string_view content) {
    d_.writes[l.w].bytes.replace(l.begin, l.end - l.begin, content);
  }

  void insert_writes(std::size_t at, const std::vector<std::string>& ws) {
    at = std::min(at, d_.writes.size());
    std::vector<write> add;
    for (const auto& s : ws) add.push_back({s, 0});
    d_.writes.insert(d_.writes.begin() + static_cast<std::ptrdiff_t>(at), add.begin(), add.end());
  }

  // ---- Dispatch ----

  bool grammar_step() {
    unsigned x = static_cast<unsigned>(r_.below(total_weight()));
    op what = op::bytes;
    for (const auto& o : k_ops) {
      if (x < o.weight) {
        what = o.what;
        break;
      }
      x -= o.weight;
    }
    switch (what) {
      case op::drop: return drop_write();
      case op::duplicate: return duplicate_write();
      case op::repeat: return repeat_write();
      case op::swap: return swap_writes();
      case op::move: return move_write();
      case op::splice: return splice();
      case op::merge: return merge_writes();
      case op::split: return split_write();
      case op::delay: return delay();
      case op::path: return mutate_path();
      case op::params: return mutate_params();
      case op::auth: return mutate_auth();
      case op::helo: return mutate_helo();
      case op::query: return mutate_query();
      case op::bdat: return mutate_bdat();
      case op::data: return mutate_data();
      case op::insert: return insert_command();
      case op::verb_case: return verb_case();
      case op::verb_swap: return verb_swap();
      case op::line: return mutate_line();
      case op::bytes: return bytes_step();
    }
    return false;
  }

  // ---- Record level ----

  bool drop_write() {
    if (d_.writes.size() < 2) return false;
    d_.writes.erase(d_.writes.begin() + static_cast<std::ptrdiff_t>(r_.below(d_.writes.size())));
    return true;
  }

  bool duplicate_write() {
    const std::size_t i = r_.below(d_.writes.size());
    const write copy = d_.writes[i];
    d_.writes.insert(d_.writes.begin() + static_cast<std::ptrdiff_t>(i + 1), copy);
    return true;
  }

  // The write N times: counters that grow with each command (recipients in
  // a transaction, commands in a session) meet their limits.
  bool repeat_write() {
    const std::size_t i = r_.below(d_.writes.size());
    const write original = d_.writes[i];
    std::size_t n = r_.one_in(6) ? r_.between(2, 300) : r_.pick(k_repeat_counts);
    const std::size_t len = std::max<std::size_t>(original.bytes.size(), 1) + 4;  // an index adds a few octets
    n = std::min(n, room() / len + 1);
    if (n < 2) return false;
    const bool pipelined = r_.one_in(4);
    if (!pipelined) n = std::min(n, max_writes_ - std::min(max_writes_, d_.writes.size()) + 1);
    if (n < 2) return false;
    if (pipelined) {
      std::string all = original.bytes;
      for (std::size_t k = 1; k < n; ++k) all += with_index(original.bytes, k);
      d_.writes[i].bytes = std::move(all);
    } else {
      std::vector<write> copies;
      copies.reserve(n - 1);
      for (std::size_t k = 1; k < n; ++k) copies.push_back({with_index(original.bytes, k), original.pause_ms});
      d_.writes.insert(d_.writes.begin() + static_cast<std::ptrdiff_t>(i + 1), copies.begin(), copies.end());
    }
    return true;
  }

  bool swap_writes() {
    if (d_.writes.size() < 2) return false;
    const std::size_t i = r_.below(d_.writes.size());
    std::size_t j = r_.below(d_.writes.size() - 1);
    if (j >= i) ++j;
    std::swap(d_.writes[i], d_.writes[j]);
    return true;
  }

  bool move_write() {
    if (d_.writes.size() < 2) return false;
    const std::size_t i = r_.below(d_.writes.size());
    write w = std::move(d_.writes[i]);
    d_.writes.erase(d_.writes.begin() + static_cast<std::ptrdiff_t>(i));
    const std::size_t j = r_.below(d_.writes.size() + 1);
    d_.writes.insert(d_.writes.begin() + static_cast<std::ptrdiff_t>(j), std::move(w));
    return true;
  }

  bool splice() {
    dialogue self;
    const dialogue* src = donor_;
    if (src == nullptr || src == &d_ || src->writes.empty()) {
      self = d_;
      src = &self;
    }
    const std::size_t n = src->writes.size();
    if (n == 0) return false;
    const std::size_t j = r_.below(n);
    if (r_.one_in(4)) {
      // This dialogue's head, the donor's tail.
      d_.writes.resize(r_.below(d_.writes.size() + 1));
      d_.writes.insert(d_.writes.end(), src->writes.begin() + static_cast<std::ptrdiff_t>(j), src->writes.end());
    } else {
      const std::size_t k = std::min(r_.between(1, 3), n - j);
      const std::size_t at = r_.below(d_.writes.size() + 1);
      d_.writes.insert(d_.writes.begin() + static_cast<std::ptrdiff_t>(at),
                       src->writes.begin() + static_cast<std::ptrdiff_t>(j),
                       src->writes.begin() + static_cast<std::ptrdiff_t>(j + k));
    }
    return true;
  }

  // Two writes in one: pipelining (RFC 2920), wanted or not.
  bool merge_writes() {
    if (d_.writes.size() < 2) return false;
    const std::size_t i = r_.below(d_.writes.size() - 1);
    d_.writes[i].bytes += d_.writes[i + 1].bytes;
    d_.writes.erase(d_.writes.begin() + static_cast<std::ptrdiff_t>(i + 1));
    return true;
  }

  // One write in two, cut at any octet: a command arriving in pieces.
  bool split_write() {
    const std::size_t i = r_.below(d_.writes.size());
    const std::string& s = d_.writes[i].bytes;
    if (s.size() < 2) return false;
    std::size_t cut = r_.between(1, s.size() - 1);
    // Now and then right before the line's end, where "\r" and "\n" part.
    if (r_.one_in(3)) {
      const std::size_t cr = s.find('\r');
      if (cr != npos && cr > 0) cut = r_.coin() ? cr : std::min(cr + 1, s.size() - 1);
    }
    // Half the time a pause of 1 ms between the pieces, so that they reach
    // the server in two reads (sent back to back they often arrive as
    // one); longer pauses are the delay mutation's.
    write tail{s.substr(cut), max_pause_ > 0 && r_.coin() ? 1u : 0u};
    d_.writes[i].bytes.resize(cut);
    d_.writes.insert(d_.writes.begin() + static_cast<std::ptrdiff_t>(i + 1), std::move(tail));
    return true;
  }

  bool delay() {
    if (max_pause_ == 0) return false;
    d_.writes[r_.below(d_.writes.size())].pause_ms = static_cast<std::uint32_t>(r_.between(1, max_pause_));
    return true;
  }

  // ---- Field level: MAIL and RCPT paths (RFC 5321 §4.1.2, §4.5.3.1.3) ----

  std::string source_route() {
    static constexpr std::string_view routes[] = {
        "@a.test:",    "@a.test,@b.test:",  "@:",       "@a.test,b.test:", ",@a.test:", "@a.test,@b.test",
        "@[1.2.3.4]:", "@a.test,,@b.test:", "@@a.test:"};
    switch (r_.below(4)) {
      case 0: {
        std::string s;
        const std::size_t n = r_.pick(k_label_counts);
        for (std::size_t i = 0; i < n; ++i) s += (i ? ",@" : "@") + label(r_, r_.between(1, 6)) + ".test";
        return s + ":";
      }
      case 1: return "@" + domain(r_) + ":";
      default: return std::string(r_.pick(routes));
    }
  }

  // A path as a whole: null, bare, nested, without "@", past 256 octets.
  std::string whole_path(std::string_view inner) {
    static constexpr std::size_t path_lengths[] = {255, 256, 257, 258, 300, 512, 1000};
    const std::string in(inner);
    switch (r_.below(12)) {
      case 0: return "<>";
      case 1: return in.empty() ? "a@b.test" : in;
      case 2: return "<<" + in + ">>";
      case 3: {
        static constexpr std::string_view no_at[] = {"<postmaster>", "<@>",          "<a@>",     "<@b.test>",
                                                     "<a>",          "<a@b@c.test>", "<\"a@b\">"};
        return std::string(r_.pick(no_at));
      }
      case 4: {
        // RFC 5321 §4.5.3.1.3: a path is at most 256 octets, brackets included.
        const std::size_t total = r_.pick(path_lengths);
        const std::size_t local = std::min<std::size_t>(64, total / 2);
        return "<" + dot_string(r_, local) + "@" + domain_of(r_, total - local - 3) + ">";
      }
      case 5: return "<" + in;
      case 6: return in + ">";
      case 7: return "<" + in + "> <" + in + ">";
      case 8: return "< " + in + " >";
      case 9: return "<" + in + ">" + std::string(r_.between(1, 3), '>');
      case 10: return "<\"" + qtext(r_, r_.below(6)) + "@" + qtext(r_, r_.below(6)) + "\"@c.test>";
      default: return "<" + utf8_text(r_, r_.between(1, 20)) + "@" + utf8_text(r_, r_.between(1, 20)) + ".test>";
    }
  }

  bool mutate_path() {
    const auto lines = lines_with_verb({"MAIL", "RCPT"});
    if (lines.empty()) return false;
    const line_ref& l = lines[r_.below(lines.size())];
    std::string line(text(l));
    const path_span ps = find_path(line);
    const std::string inner = line.substr(ps.inner_begin, ps.inner_end - ps.inner_begin);
    const std::size_t re = route_end(inner);
    std::string route = inner.substr(0, re);
    const std::size_t at = inner.rfind('@');
    const bool has_at = at != npos && at >= re;
    std::string local = has_at ? inner.substr(re, at - re) : inner.substr(re);
    std::string dom = has_at ? inner.substr(at + 1) : std::string();
    std::string path;
    switch (r_.below(12)) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        local = local_part(r_);
        if (dom.empty() && !r_.one_in(4)) dom = "example.test";
        break;
      case 5:
      case 6:
        dom = domain(r_);
        if (local.empty()) local = "a";
        break;
      case 7:
        // Address literals on their own as well (RFC 5321 §4.1.3): their
        // parsers store groups and octets in fixed places.
        dom = address_literal(r_);
        if (local.empty()) local = "a";
        break;
      case 8:
      case 9: path = whole_path(inner); break;
      case 10: route = source_route(); break;
      default: {
        // Around the path: "MAIL FROM: <a@b>", the keyword's case, the colon.
        const std::size_t colon = line.find(':');
        if (colon == npos || colon > ps.begin) return false;
        switch (r_.below(5)) {
          case 0: line.insert(colon + 1, r_.coin() ? " " : (r_.coin() ? "  " : "\t")); break;
          case 1:
            for (std::size_t i = 0; i < colon; ++i) line[i] = r_.coin() ? ascii_lower(line[i]) : ascii_upper(line[i]);
            break;
          case 2: line.erase(colon, 1); break;
          case 3: line.insert(colon, " "); break;
          default: line.insert(colon + 1, line.substr(0, colon + 1).substr(std::min(line.find(' '), colon))); break;
        }
        replace(l, line);
        return true;
      }
    }
    if (path.empty()) {
      path = "<" + route + local + (dom.empty() && !has_at ? "" : "@" + dom) + ">";
      if (local.empty() && dom.empty() && route.empty()) path = "<>";
    }
    line.replace(ps.begin, ps.end - ps.begin, path);
    replace(l, line);
    return true;
  }

  // ---- Field level: ESMTP parameters on MAIL and RCPT ----

  bool mutate_params() {
    const auto lines = lines_with_verb({"MAIL", "RCPT"});
    if (lines.empty()) return false;
    const line_ref& l = lines[r_.below(lines.size())];
    const std::string line(text(l));
    const path_span ps = find_path(line);
    std::vector<std::string> params;
    for (std::size_t p = ps.end; p < line.size();) {
      const std::size_t sp = line.find(' ', p);
      const std::size_t e = sp == npos ? line.size() : sp;
      if (e > p) params.push_back(line.substr(p, e - p));
      p = e + 1;
    }
    auto at = [&](std::size_t extra) { return r_.below(params.size() + extra); };
    switch (r_.below(9)) {
      case 0:
      case 1: params.push_back(esmtp_param(r_)); break;
      case 2:
        if (params.empty()) {
          params.push_back(esmtp_param(r_));
        } else {
          params[at(0)] = esmtp_param(r_);
        }
        break;
      case 3:
        if (params.empty()) params.push_back(esmtp_param(r_));
        params.push_back(params[at(0)]);
        break;
      case 4:
        if (params.empty()) return false;
        params.erase(params.begin() + static_cast<std::ptrdiff_t>(at(0)));
        break;
      case 5: {
        if (params.empty()) params.push_back(esmtp_param(r_));
        std::string& p = params[at(0)];
        for (std::size_t i = 0; i < p.size() && p[i] != '='; ++i) p[i] = ascii_lower(p[i]);
        break;
      }
      case 6: {
        // Many parameters, the same one or assorted.
        const std::size_t n = r_.pick(k_repeat_counts);
        const std::string same = esmtp_param(r_);
        const bool assorted = r_.coin();
        for (std::size_t i = 0; i < n; ++i) params.push_back(assorted ? esmtp_param(r_) : same);
        break;
      }
      default: params.insert(params.begin() + static_cast<std::ptrdiff_t>(at(1)), esmtp_param(r_)); break;
    }
    std::string out = line.substr(0, ps.end);
    for (const auto& p : params) out += " " + p;
    replace(l, out);
    return true;
  }

  // ---- Field level: AUTH (RFC 4954) ----

  bool mutate_auth() {
    const auto ex = auth_exchange(r_);
    const auto lines = lines_with_verb({"AUTH"});
    if (lines.empty() || r_.one_in(4)) {
      insert_writes(after_hello(), ex);
      return true;
    }
    const line_ref l = lines[r_.below(lines.size())];
    // The first write replaces the line, terminator and all; the rest follow.
    d_.writes[l.w].bytes.replace(l.begin, l.next - l.begin, ex.front());
    insert_writes(l.w + 1, std::vector<std::string>(ex.begin() + 1, ex.end()));
    return true;
  }

  // ---- Field level: EHLO and HELO (RFC 5321 §4.1.1.1) ----

  std::string hello_argument() {
    static constexpr std::string_view invalid[] = {
        "a_b.test", "a b",     "<a.test>", "a.test\x01", "\"a.test\"", "a..b",          "-", ".",
        "[",        "a.test ", "@a.test",  "a.test:25",  "a/b",        "a.test,b.test", "*"};
    switch (r_.below(11)) {
      case 0:
      case 1: return domain_of(r_, r_.between(254, 260));  // RFC 5321 §4.5.3.1.2: 255
      case 2: return domain_of(r_, r_.between(480, 520));
      case 3: return domain_of(r_, r_.coin() ? 1000 : r_.below(2001));
      case 4: return address_literal(r_);
      case 5: return std::string(r_.below(3), ' ');
      case 6: return utf8_text(r_, r_.between(1, 60)) + ".test";
      case 7: return std::string(r_.pick(invalid));
      case 8: return label(r_, r_.pick(k_label_lengths)) + (r_.coin() ? ".test" : "");
      case 9:
        return "x.test " + (r_.coin() ? qtext(r_, r_.between(1, 20)) : run_of(r_, k_alnum, r_.between(300, 1100)));
      default: return domain(r_);
    }
  }

  bool mutate_helo() {
    static constexpr std::string_view verbs[] = {"EHLO", "HELO", "LHLO", "ehlo"};
    const std::string arg = hello_argument();
    const auto lines = lines_with_verb({"EHLO", "HELO", "LHLO"});
    if (lines.empty() || r_.one_in(8)) {
      const std::string verb(r_.one_in(4) ? r_.pick(verbs) : std::string_view("EHLO"));
      insert_writes(r_.coin() ? 0 : r_.below(d_.writes.size() + 1), {verb + (arg.empty() ? "" : " ") + arg + "\r\n"});
      return true;
    }
    const line_ref& l = lines[r_.below(lines.size())];
    const std::string verb(r_.one_in(5) ? r_.pick(verbs) : verb_of(text(l)));
    replace(l, arg.empty() && r_.coin() ? verb : verb + " " + arg);
    return true;
  }

  // ---- Field level: VRFY, EXPN, HELP, NOOP arguments (RFC 5321 §4.1.1.6-4.1.1.9) ----

  std::string query_argument() {
    static constexpr std::size_t long_lengths[] = {255, 256, 511, 512, 513, 1000, 4096};
    static constexpr std::string_view odd[] = {"@",    "<>",          "\"", "\\",          "\"\\\"", "a\"b",
                                               "\"\"", "\"a\" \"b\"", "<",  "Smith, John", "*",      "%s%n"};
    switch (r_.below(10)) {
      case 0:
      case 1: {
        // A quoted string with spaces, as "John Smith" (RFC 5321 §3.5.3).
        const std::size_t words = r_.between(2, 4);
        std::string s = "\"";
        for (std::size_t i = 0; i < words; ++i) s += (i ? " " : "") + label(r_, r_.between(1, 10));
        return s + "\"";
      }
      case 2: {
        static constexpr std::string_view escapes[] = {"\"a\\ b\"", "\"a\\\"b\"", "\"a\\\\\"",
                                                       "\"\\\"",    "\"a\\",      "\"John Smith\\\\\""};
        return r_.coin() ? std::string(r_.pick(escapes)) : "\"" + quoted_pairs(r_, r_.between(1, 20)) + "\"";
      }
      case 3: return std::string();
      case 4: return run_of(r_, k_alnum, r_.pick(long_lengths));
      case 5: return utf8_text(r_, r_.between(1, 40)) + (r_.coin() ? " SMTPUTF8" : "");  // RFC 6531 §3.7.4
      case 6: return quoted_local(r_);
      case 7: return "<" + local_part(r_) + "@" + domain(r_) + ">";
      case 8: return qtext(r_, r_.between(1, 10)) + " <" + label(r_, 5) + "@x.test>";
      default: return std::string(r_.pick(odd));
    }
  }

  bool mutate_query() {
    static constexpr std::string_view verbs[] = {"VRFY", "VRFY", "EXPN", "HELP", "NOOP"};
    const std::string arg = query_argument();
    const auto lines = lines_with_verb({"VRFY", "EXPN", "HELP", "NOOP"});
    if (lines.empty() || r_.one_in(3)) {
      const std::string verb(r_.pick(verbs));
      insert_writes(r_.below(d_.writes.size() + 1), {verb + (arg.empty() && r_.coin() ? "" : " ") + arg + "\r\n"});
      return true;
    }
    const line_ref& l = lines[r_.below(lines.size())];
    replace(l, std::string(verb_of(text(l))) + (arg.empty() && r_.coin() ? "" : " ") + arg);
    return true;
  }

  // ---- Field level: BDAT (RFC 3030 §2-3) ----

  std::string bdat_size(std::size_t n) {
    static constexpr std::string_view odd[] = {"4294967295",
                                               "4294967296",
                                               "4294967297",
                                               "18446744073709551615",
                                               "18446744073709551616",
                                               "99999999999",
                                               "-1",
                                               "",
                                               "abc",
                                               "0x10",
                                               "2147483648",
                                               "1e3",
                                               "+1",
                                               " "};
    switch (r_.below(8)) {
      case 0: return "0";
      case 1: return std::to_string(n > 0 ? n - 1 : 0);
      case 2: return std::to_string(n + 1);
      case 3: return std::to_string(n * 2 + r_.below(1 << 20));
      case 4: return std::string(r_.between(1, 20), '0') + std::to_string(n);
      default: return std::string(r_.pick(odd));
    }
  }

  // The message as chunks, in place of DATA and its text or anywhere.
  bool bdat_sequence() {
    std::string msg;
    std::size_t from = npos, count = 0;  // the DATA write and its text, when there are
    for (std::size_t w = 0; w + 1 < d_.writes.size(); ++w) {
      const std::string& s = d_.writes[w].bytes;
      const std::string_view last = last_line(s);
      if (iequals(last, "DATA")) {
        from = w;
        count = 2;
        msg = d_.writes[w + 1].bytes;
        const std::size_t end = msg.rfind("\r\n.\r\n");
        if (end != npos) msg.resize(end + 2);
        // The DATA write may pipeline other commands before DATA: keep them.
        const auto dl = static_cast<std::size_t>(last.data() - s.data());
        if (dl > 0) {
          d_.writes[w].bytes.resize(dl);
          from = w + 1;
          count = 1;
        }
        break;
      }
    }
    if (msg.empty()) msg = r_.coin() ? "Subject: x\r\n\r\nbody\r\n" : header_block(r_);
    std::vector<std::string> ws;
    auto chunk = [&](std::string_view data, bool last, std::string size = std::string()) {
      if (size.empty()) size = std::to_string(data.size());
      ws.push_back("BDAT " + size + (last ? " LAST" : "") + "\r\n" + std::string(data));
    };
    switch (r_.below(7)) {
      case 0:
      case 1:
        chunk("", false);
        chunk(msg, true);
        break;
      case 2: chunk(msg, true); break;
      case 3:
        chunk(msg, false);
        chunk("", true);
        break;
      case 4: {
        // Several chunks, cut anywhere (CR and LF of one CRLF apart, too).
        const std::size_t k = r_.between(2, 6);
        std::vector<std::size_t> cuts;
        for (std::size_t i = 0; i + 1 < k; ++i) cuts.push_back(r_.below(msg.size() + 1));
        cuts.push_back(msg.size());
        std::sort(cuts.begin(), cuts.end());
        std::size_t p = 0;
        for (std::size_t i = 0; i < cuts.size(); ++i) {
          chunk(std::string_view(msg).substr(p, cuts[i] - p), i + 1 == cuts.size());
          p = cuts[i];
        }
        break;
      }
      case 5: {
        // A size that is not the octets sent.
        const std::size_t k = r_.between(1, 3);
        for (std::size_t i = 0; i < k; ++i)
          chunk(i + 1 == k ? msg : "abc", i + 1 == k, bdat_size(i + 1 == k ? msg.size() : 3));
        break;
      }
      default:
        ws.push_back("BDAT 0 LAST\r\n");
        if (r_.coin()) chunk(msg, true);
        break;
    }
    if (r_.one_in(5)) {
      // Command and octets in separate writes.
      std::vector<std::string> apart;
      for (const auto& s : ws) {
        const std::size_t e = s.find("\r\n") + 2;
        apart.push_back(s.substr(0, e));
        if (e < s.size()) apart.push_back(s.substr(e));
      }
      ws = std::move(apart);
    } else if (r_.one_in(5)) {
      std::string all;
      for (const auto& s : ws) all += s;
      ws = {all};
    }
    if (from != npos && !r_.one_in(4)) {
      d_.writes.erase(d_.writes.begin() + static_cast<std::ptrdiff_t>(from),
                      d_.writes.begin() + static_cast<std::ptrdiff_t>(std::min(from + count, d_.writes.size())));
      insert_writes(from, ws);
    } else {
      const std::size_t quit = first_write_with({"QUIT"});
      insert_writes(quit != npos && r_.coin() ? quit : r_.below(d_.writes.size() + 1), ws);
    }
    return true;
  }

  bool mutate_bdat() {
    const auto lines = lines_with_verb({"BDAT"});
    if (lines.empty() || r_.one_in(3)) return bdat_sequence();
    const line_ref l = lines[r_.below(lines.size())];
    std::string& s = d_.writes[l.w].bytes;
    const std::string line(text(l));
    const std::size_t data = s.size() - l.next;  // the chunk's octets in this write
    std::size_t sb = line.find(' ');
    sb = sb == npos ? line.size() : sb + 1;
    std::size_t se = line.find(' ', sb);
    se = se == npos ? line.size() : se;
    std::size_t declared = data;
    if (se > sb && se - sb < 10) {
      std::size_t v = 0;
      bool digits = true;
      for (std::size_t i = sb; i < se; ++i) {
        if (line[i] < '0' || line[i] > '9') digits = false;
        v = v * 10 + static_cast<std::size_t>(line[i] - '0');
      }
      if (digits) declared = v;
    }
    switch (r_.below(6)) {
      case 0:
      case 1: {
        std::string head = line.substr(0, sb);
        if (!head.empty() && head.back() != ' ') head += ' ';
        replace(l, head + bdat_size(r_.coin() ? declared : data) + line.substr(se));
        break;
      }
      case 2: {
        const std::size_t last = [&] {
          for (std::size_t i = se; i + 5 <= line.size(); ++i) {
            if (line[i] == ' ' && iequals(std::string_view(line).substr(i + 1, 4), "LAST")) return i;
          }
          return npos;
        }();
        static constexpr std::string_view tails[] = {" LAST",  " last",  " LAST LAST", " LAST=1",
                                                     " LASTX", "  LAST", "\tLAST"};
        if (last != npos && r_.coin()) {
          replace(l, line.substr(0, last) + line.substr(last + 5));
        } else {
          replace(l, line.substr(0, se) + std::string(r_.pick(tails)));
        }
        break;
      }
      case 3: {
        // The chunk's border moved: the octets in the next write, or cut in two.
        if (data == 0) return false;
        const std::size_t cut = r_.coin() ? l.next : l.next + r_.below(data);
        if (cut == 0 || cut >= s.size()) return false;
        write tail{s.substr(cut), 0};
        s.resize(cut);
        d_.writes.insert(d_.writes.begin() + static_cast<std::ptrdiff_t>(l.w + 1), std::move(tail));
        break;
      }
      case 4:
        if (data == 0) return false;
        s.resize(l.next);
        break;
      default: {
        static constexpr std::string_view extra[] = {"\r\n.\r\n", "x", "\r\n", "QUIT\r\n", "BDAT 0 LAST\r\n"};
        s += r_.coin() ? std::string(r_.pick(extra)) : random_octets(r_, r_.between(1, 16));
        break;
      }
    }
    return true;
  }

  // ---- Field level: the message text (RFC 5321 §4.1.1.4, §4.5.2) ----

  struct text_ref {
    std::size_t w = npos;   // the write
    std::size_t begin = 0;  // where the text starts in it
  };

  // A write after DATA, or one holding "\r\n.\r\n".
  text_ref find_text() {
    std::vector<text_ref> found;
    for (std::size_t w = 0; w < d_.writes.size(); ++w) {
      const std::string& s = d_.writes[w].bytes;
      if (w > 0 && iequals(last_line(d_.writes[w - 1].bytes), "DATA")) {
        found.push_back({w, 0});
        continue;
      }
      if (s.find("\r\n.\r\n") != npos) {
        std::size_t begin = 0;
        for (std::size_t p = 0; (p = s.find("DATA", p)) != npos; p += 4) {
          if ((p == 0 || s[p - 1] == '\n') && s.compare(p + 4, 2, "\r\n") == 0) {
            begin = p + 6;
            break;
          }
        }
        found.push_back({w, begin});
      }
    }
    if (found.empty()) return {};
    return found[r_.below(found.size())];
  }

  bool mutate_data() {
    text_ref t = find_text();
    if (t.w == npos) {
      const std::size_t quit = first_write_with({"QUIT"});
      insert_writes(quit != npos ? quit : d_.writes.size(), {"DATA\r\n", header_block(r_) + ".\r\n"});
      return true;
    }
    std::string& s = d_.writes[t.w].bytes;
    t.begin = std::min(t.begin, s.size());
    std::size_t fin = s.rfind("\r\n.\r\n");  // the end of data, when it is there
    if (fin != npos && fin < t.begin) fin = npos;
    if (fin == npos && s.size() >= t.begin + 3 && s.compare(s.size() - 3, 3, ".\r\n") == 0 &&
        (s.size() == t.begin + 3 || s[s.size() - 4] == '\n')) {
      fin = s.size() - 5;  // ".\r\n" alone on its line; the CRLF before belongs to the previous line
      if (s.size() < 5 || s.size() - 5 < t.begin) fin = npos;
    }
    const std::size_t body_end = fin != npos ? fin + 2 : s.size();
    auto anywhere = [&] { return t.begin + r_.below(body_end - t.begin + 1); };
    auto line_start = [&] {
      std::vector<std::size_t> starts;
      for (std::size_t p = t.begin; p <= body_end && starts.size() < 4096; ++p) {
        if (p == t.begin || s[p - 1] == '\n') starts.push_back(p);
      }
      return starts.empty() ? t.begin : starts[r_.below(starts.size())];
    };
    switch (r_.below(11)) {
      case 0:
      case 1: {
        // An end-of-data lookalike in the body, maybe commands behind it.
        std::string v(r_.pick(k_end_variants));
        if (r_.coin()) v += r_.pick(k_smuggled);
        s.insert(anywhere(), v);
        break;
      }
      case 2: {
        std::string v(r_.pick(k_line_end_variants));
        if (r_.coin()) v += r_.pick(k_smuggled);
        s.insert(line_start(), v);
        break;
      }
      case 3: {
        static constexpr std::string_view bare[] = {
            "\r", "\n", std::string_view("\0", 1), std::string_view("\r\0", 2), "\r\r\n", "\n\r"};
        s.insert(anywhere(), r_.pick(bare));
        break;
      }
      case 4: {
        // Leading dots (RFC 5321 §4.5.2), stuffed and not.
        static constexpr std::string_view dots[] = {".x\r\n", "..x\r\n", "..\r\n", ". \r\n", "...\r\n", ".\t\r\n"};
        s.insert(line_start(), r_.pick(dots));
        break;
      }
      case 5: {
        const std::size_t n = r_.one_in(5) ? r_.below(70000) : r_.pick(k_text_line_lengths);
        s.insert(line_start(), run_of(r_, k_alnum, n) + (r_.coin() ? "\r\n" : ""));
        break;
      }
      case 6: {
        // 8-bit octets in a body sent without BODY=8BITMIME (RFC 6152 §3).
        std::string hi;
        const std::size_t n = r_.between(1, 64);
        for (std::size_t i = 0; i < n; ++i) hi += octet(static_cast<unsigned>(0x80 + r_.below(0x80)));
        s.insert(anywhere(), r_.coin() ? hi : utf8_text(r_, n));
        break;
      }
      case 7: {
        if (fin == npos) return false;
        static constexpr std::string_view ends[] = {"\r\n", "", "\r\n.", "\r\n.\r", "\r\n.\n", "\n.\r\n"};
        s.replace(fin, s.size() - fin, r_.pick(ends));
        break;
      }
      case 8: {
        static constexpr std::string_view twice[] = {".\r\n", "\r\n.\r\n", ".\r\n.\r\n"};
        s += r_.pick(twice);
        if (r_.coin()) s += r_.pick(k_smuggled);
        break;
      }
      case 9: s.replace(t.begin, s.size() - t.begin, header_block(r_) + ".\r\n"); break;
      default: {
        // The blank line between header and body.
        const std::size_t blank = s.find("\r\n\r\n", t.begin);
        if (blank == npos || blank >= body_end) return false;
        static constexpr std::string_view seps[] = {"\n\n", "\r\n", "\r\n \r\n", "\r\r\n", "\n\r\n", "\r\n\r\n\r\n"};
        s.replace(blank, 4, r_.pick(seps));
        break;
      }
    }
    return true;
  }

  // ---- State level ----

  bool insert_command() {
    static constexpr std::string_view commands[] = {"STARTTLS\r\n",
                                                    "EHLO x.test\r\n",
                                                    "HELO x.test\r\n",
                                                    "LHLO x.test\r\n",
                                                    "RSET\r\n",
                                                    "NOOP\r\n",
                                                    "QUIT\r\n",
                                                    "MAIL FROM:<a@b.test>\r\n",
                                                    "RCPT TO:<c@d.test>\r\n",
                                                    "DATA\r\n",
                                                    "BDAT 0 LAST\r\n",
                                                    "AUTH PLAIN\r\n",
                                                    "VRFY x\r\n",
                                                    "EXPN x\r\n",
                                                    "HELP\r\n",
                                                    "XYZZY\r\n",
                                                    "TURN\r\n",
                                                    "ETRN x.test\r\n",
                                                    "BDAT 1\r\nx",
                                                    "MAIL FROM:<>\r\n",
                                                    "\r\n",
                                                    " \r\n",
                                                    "RCPT TO:<postmaster>\r\n"};
    std::vector<std::string> ws{std::string(r_.pick(commands))};
    if (r_.one_in(8)) ws = {"MAIL FROM:<a@b.test>\r\n", "MAIL FROM:<a@b.test>\r\n"};
    const std::size_t at = r_.below(d_.writes.size() + 1);
    if (at > 0 && r_.one_in(5)) {
      d_.writes[at - 1].bytes += ws.front();  // pipelined behind the write before
      return true;
    }
    insert_writes(at, ws);
    return true;
  }

  bool verb_case() {
    const auto lines = lines_where([](std::string_view s) { return !s.empty() && is_alpha(s[0]); });
    if (lines.empty()) return false;
    const line_ref& l = lines[r_.below(lines.size())];
    std::string line(text(l));
    std::size_t end = verb_of(line).size();
    if (r_.one_in(3)) end = std::min(line.find(':') == npos ? end : line.find(':'), line.size());
    const std::size_t how = r_.below(3);
    for (std::size_t i = 0; i < end; ++i) {
      if (how == 0) line[i] = ascii_lower(line[i]);
      if (how == 1) line[i] = i % 2 ? ascii_lower(line[i]) : ascii_upper(line[i]);
      if (how == 2) line[i] = r_.coin() ? ascii_lower(line[i]) : ascii_upper(line[i]);
    }
    replace(l, line);
    return true;
  }

  bool verb_swap() {
    const auto lines = lines_where([](std::string_view s) { return !s.empty() && is_alpha(s[0]); });
    if (lines.empty()) return false;
    const line_ref& l = lines[r_.below(lines.size())];
    const std::string line(text(l));
    replace(l, std::string(r_.pick(k_verbs)) + line.substr(verb_of(line).size()));
    return true;
  }

  // ---- Line level ----

  bool mutate_line() {
    const std::size_t w = r_.below(d_.writes.size());
    const auto lines = lines_of(w);
    if (lines.empty()) return false;
    const line_ref l = lines[r_.below(lines.size())];
    std::string& s = d_.writes[w].bytes;
    switch (r_.below(7)) {
      case 0: {
        // The terminator: RFC 5321 §2.3.8 wants CRLF and nothing else.
        static constexpr std::string_view ends[] = {"\n", "\r", "", "\r\r\n", "\n\r", "\r\n\r\n", "\r\n"};
        s.replace(l.end, l.next - l.end, r_.pick(ends));
        break;
      }
      case 1: {
        static constexpr std::string_view spaces[] = {"  ", "\t", "", " \t", "\v", "\f"};
        const std::size_t sp = s.find(' ', l.begin);
        if (sp == npos || sp >= l.end) return false;
        s.replace(sp, 1, r_.pick(spaces));
        break;
      }
      case 2: {
        static constexpr std::string_view trailing[] = {" ", "\t", "  ", " \t "};
        s.insert(l.end, r_.pick(trailing));
        break;
      }
      case 3: {
        static constexpr unsigned char odd[] = {0x00, 0xff, 0x7f, 0x1b, 0x08, 0x80};
        s.insert(l.begin + r_.below(l.end - l.begin + 1), 1, static_cast<char>(r_.pick(odd)));
        break;
      }
      case 4: {
        // RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its
        // CRLF; §4.5.3.1.6: a text line 1000.
        static constexpr std::size_t lengths[] = {510,  511,  512,  513,  514,  998,  999, 1000,
                                                  1001, 1002, 2047, 2048, 2049, 4096, 8192};
        const std::size_t want = r_.one_in(6) ? r_.below(20000) : r_.pick(lengths);
        const std::size_t have = l.end - l.begin + (l.next > l.end ? 2 : 0);
        if (want <= have) return false;
        const char fill = r_.coin() ? 'a' : (l.end > l.begin ? s[l.end - 1] : 'a');
        s.insert(l.end, std::string(want - have, fill));
        break;
      }
      case 5: s.insert(l.begin, r_.coin() ? " " : "\r\n"); break;
      default:
        for (std::size_t i = l.begin; i < l.end; ++i) s[i] = ascii_lower(s[i]);
        break;
    }
    return true;
  }

  // ---- Byte level ----

  bool bytes_step() {
    octet_run o;
    const bool whole = d_.writes.size() == 1 || r_.coin();
    std::size_t wi = 0;
    if (whole) {
      o.s = d_.bytes();
      for (const auto& w : d_.writes) o.lens.push_back(w.bytes.size());
    } else {
      wi = r_.below(d_.writes.size());
      o.s = d_.writes[wi].bytes;
      o.lens = {o.s.size()};
    }
    byte_op(r_, o);
    if (whole) {
      std::size_t p = 0;
      for (std::size_t i = 0; i < d_.writes.size(); ++i) {
        d_.writes[i].bytes = o.s.substr(p, o.lens[i]);
        p += o.lens[i];
      }
    } else {
      d_.writes[wi].bytes = std::move(o.s);
    }
    return true;
  }

  dialogue& d_;
  const dialogue* donor_;
  dice r_;
  std::size_t max_octets_;
  std::size_t max_writes_;
  std::uint32_t max_pause_;
};

}  // namespace

void mutate(dialogue& d, const dialogue* donor, std::mt19937_64& rng, mutator_kind kind, const mutate_limits& lim) {
  mutator(d, donor, rng, lim).run(kind);
}

}  // namespace smtpkit::fuzz
