// path_shape_test.cpp — Domain and Dot-string (RFC 5321 §4.1.2) against a
// plain reference of their ABNF, over many generated shapes: the fast
// paths of path.cpp decide a whole run from bit masks 16 octets at a time,
// so every length up to and past 64, every position of a "." or "-" and
// every distance from the end of the input is tried.
//
// Limits: ASCII only (UTF-8 and address literals always take the general
// path, covered by path_test.cpp); the reference decides valid or not, the
// rule and offset of errors stay path_test.cpp's business.
#include "smtpkit/path.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "smtpkit/command.hpp"

namespace smtpkit {
namespace {

bool is_let_dig(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_atext(char c) {
  return is_let_dig(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

template <class Part>
bool dotted(std::string_view s, Part part) {
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = s.find('.', start);
    std::string_view piece = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!part(piece)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
bool reference_domain(std::string_view d) {
  if (d.size() > 255) return false;
  return dotted(d, [](std::string_view label) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!is_let_dig(c) && c != '-') return false;
    return true;
  });
}

// Dot-string = Atom *("." Atom)
bool reference_dot_string(std::string_view s) {
  return dotted(s, [](std::string_view atom) {
    if (atom.empty()) return false;
    for (char c : atom)
      if (!is_atext(c)) return false;
    return true;
  });
}

bool reference_mailbox(std::string_view m) {
  std::size_t at = m.find('@');
  if (at == std::string_view::npos) return false;
  std::string_view local = m.substr(0, at);
  return local.size() <= 64 && reference_dot_string(local) && reference_domain(m.substr(at + 1));
}

// Mostly valid octets, with the ones that end or break a run now and then.
std::string shape(std::mt19937& g, std::size_t len, std::string_view alphabet) {
  std::string s;
  for (std::size_t i = 0; i < len; ++i) s += alphabet[g() % alphabet.size()];
  return s;
}

TEST(path_shape, domains_agree_with_the_reference) {
  std::mt19937 g(7);
  const std::string_view alphabet = "abcXYZ0189abc-..abcdefghij";
  const std::string_view odd = " >,:_@\x80";
  int valid = 0;
  for (int i = 0; i < 60000; ++i) {
    std::string d = shape(g, 1 + g() % 90, alphabet);
    if (g() % 4 == 0) d[g() % d.size()] = odd[g() % odd.size()];
    const bool want = reference_domain(d);
    valid += want;
    const auto r = parse_domain(d);
    ASSERT_EQ(r.ok(), want) << "domain \"" << d << "\" (" << r.diag.rule() << ")";
    if (want) EXPECT_EQ(r.value.text, d);
  }
  EXPECT_GT(valid, 6000);  // enough valid shapes to exercise the fast path
}

TEST(path_shape, mailboxes_agree_with_the_reference) {
  std::mt19937 g(11);
  const std::string_view local_alphabet = "ab.Z9!#'+/=?^_`{|}~-ab.xy";
  const std::string_view domain_alphabet = "abcXYZ0189-..abcdefgh";
  const std::string_view odd = " >\"(),:;<@[]\\\x80";
  int valid = 0;
  for (int i = 0; i < 60000; ++i) {
    std::string local = shape(g, 1 + g() % 70, local_alphabet);
    std::string domain = shape(g, 1 + g() % 40, domain_alphabet);
    if (g() % 5 == 0) local[g() % local.size()] = odd[g() % odd.size()];
    if (g() % 5 == 0) domain[g() % domain.size()] = odd[g() % odd.size()];
    const std::string m = local + "@" + domain;
    const bool want = reference_mailbox(m);
    valid += want;
    const auto r = parse_mailbox(m);
    ASSERT_EQ(r.ok(), want) << "mailbox \"" << m << "\" (" << r.diag.rule() << ")";
    if (want) {
      EXPECT_EQ(r.value.local_part, local);
      EXPECT_EQ(r.value.domain.text, domain);
      EXPECT_FALSE(r.value.utf8);
    }
  }
  EXPECT_GT(valid, 6000);
}

// The same mailboxes inside commands, so runs end at every distance from
// the end of the line (where the last 16 octets are tested shifted).
TEST(path_shape, paths_in_commands_agree_with_the_reference) {
  std::mt19937 g(13);
  const std::string_view local_alphabet = "ab.Z9-+=xy";
  const std::string_view domain_alphabet = "abc019-..xyz";
  const std::string tails[] = {"", " SIZE=1", " BODY=8BITMIME SIZE=12345678"};
  int valid = 0;
  for (int i = 0; i < 40000; ++i) {
    const std::string local = shape(g, 1 + g() % 24, local_alphabet);
    const std::string domain = shape(g, 1 + g() % 40, domain_alphabet);
    const std::string line = "MAIL FROM:<" + local + "@" + domain + ">" + tails[g() % 3];
    const bool want = reference_dot_string(local) && reference_domain(domain);
    valid += want;
    const auto r = parse_command(line);
    ASSERT_EQ(r.ok(), want) << line << " (" << r.diag.rule() << ")";
    if (want) {
      EXPECT_EQ(r.cmd.address.mbox.local_part, local);
      EXPECT_EQ(r.cmd.address.mbox.domain.text, domain);
    }
  }
  EXPECT_GT(valid, 4000);
}

TEST(path_shape, ehlo_domains_agree_with_the_reference) {
  std::mt19937 g(17);
  const std::string_view alphabet = "abcXYZ0189-..abcdefghij";
  int valid = 0;
  for (int i = 0; i < 40000; ++i) {
    const std::string domain = shape(g, 1 + g() % 80, alphabet);
    const std::string line = "EHLO " + domain;
    const bool want = reference_domain(domain);
    valid += want;
    const auto r = parse_command(line);
    ASSERT_EQ(r.ok(), want) << line << " (" << r.diag.rule() << ")";
    if (want) EXPECT_EQ(r.cmd.client.text, domain);
  }
  EXPECT_GT(valid, 4000);
}

}  // namespace
}  // namespace smtpkit
