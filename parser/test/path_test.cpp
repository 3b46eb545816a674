// path_test.cpp — Domain, address literals, Mailbox, Path
// (RFC 5321 §4.1.2, §4.1.3, §4.5.3.1.1-3; RFC 6531 §3.3).
#include "smtpkit/path.hpp"

#include <gtest/gtest.h>

#include <string>

namespace smtpkit {
namespace {

enum class as { domain, host, mailbox, reverse, forward };

struct path_case {
  int line;
  const char* rfc;
  as kind;
  std::string input;
  errc expect;
  int offset;  // -1: any
  bool utf8 = false;
  lenient relax = lenient::none;
};

std::string rep(char c, std::size_t n) { return std::string(n, c); }

const path_case cases[] = {
    // --- Domain (§4.1.2) ---
    {__LINE__, "§4.1.2 Domain", as::domain, "example.test", errc::ok, -1},
    {__LINE__, "§4.1.2 single label", as::domain, "localhost", errc::ok, -1},
    {__LINE__, "§4.1.2 digits and hyphen", as::domain, "a-1.b2.c", errc::ok, -1},
    {__LINE__, "§4.1.2 all-digit label", as::domain, "123.example", errc::ok, -1},
    {__LINE__, "§4.1.2 underscore MUST NOT", as::domain, "a_b.example", errc::domain_syntax, 1},
    {__LINE__, "§4.1.2 empty", as::domain, "", errc::domain_empty, 0},
    {__LINE__, "§4.1.2 empty label", as::domain, "a..b", errc::domain_empty, 2},
    {__LINE__, "§4.1.2 trailing dot", as::domain, "example.test.", errc::domain_empty, 13},
    {__LINE__, "§4.1.2 leading dot", as::domain, ".example", errc::domain_empty, 0},
    {__LINE__, "§4.1.2 leading hyphen", as::domain, "-a.example", errc::domain_hyphen, 0},
    {__LINE__, "§4.1.2 trailing hyphen", as::domain, "a-.example", errc::domain_hyphen, 1},
    {__LINE__, "RFC 1035 §2.3.4 label of 63", as::domain, rep('a', 63) + ".x", errc::ok, -1},
    {__LINE__, "RFC 1035 §2.3.4 label of 64", as::domain, rep('a', 64) + ".x", errc::domain_label_too_long, 0},
    {__LINE__, "§4.5.3.1.2 domain of 255", as::domain,
     rep('a', 63) + "." + rep('b', 63) + "." + rep('c', 63) + "." + rep('d', 63), errc::ok, -1},
    {__LINE__, "§4.5.3.1.2 domain of 257", as::domain,
     rep('a', 63) + "." + rep('b', 63) + "." + rep('c', 63) + "." + rep('d', 63) + ".e", errc::domain_too_long, 0},
    {__LINE__, "RFC 6531 §3.3 U-label without SMTPUTF8", as::domain,
     "b\xc3\xbc"
     "cher.example",
     errc::eight_bit, 1},
    {__LINE__, "RFC 6531 §3.3 U-label", as::domain,
     "b\xc3\xbc"
     "cher.example",
     errc::ok, -1, true},
    {__LINE__, "RFC 6531 §3.3 ill-formed UTF-8", as::domain, "b\xc3(.example", errc::invalid_utf8, 1, true},
    {__LINE__, "RFC 3629 overlong UTF-8", as::domain, "b\xc0\xaf.example", errc::invalid_utf8, 1, true},
    {__LINE__, "RFC 3629 surrogate", as::domain, "b\xed\xa0\x80.example", errc::invalid_utf8, 1, true},
    {__LINE__, "§4.1.2 trailing SP", as::domain, "example.test ", errc::trailing_data, 12},
    // --- address literals (§4.1.3) ---
    {__LINE__, "§4.1.3 IPv4", as::host, "[192.0.2.1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv4 zeros", as::host, "[0.0.0.0]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv4 255", as::host, "[255.255.255.255]", errc::ok, -1},
    {__LINE__, "§4.1.3 Snum 256", as::host, "[256.0.0.1]", errc::ipv4_literal, 1},
    {__LINE__, "§4.1.3 Snum of 4 digits", as::host, "[1.2.3.0001]", errc::ipv4_literal, 10},
    {__LINE__, "§4.1.3 three parts", as::host, "[1.2.3]", errc::ipv4_literal, 6},
    {__LINE__, "§4.1.3 five parts", as::host, "[1.2.3.4.5]", errc::ipv4_literal, 8},
    {__LINE__, "§4.1.3 empty literal", as::host, "[]", errc::address_literal, 1},
    {__LINE__, "§4.1.3 unterminated", as::host, "[1.2.3.4", errc::address_literal, 8},
    {__LINE__, "§4.1.3 IPv6-full", as::host, "[IPv6:2001:db8:0:0:0:0:0:1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6-full 4-digit groups", as::host, "[IPv6:2001:0db8:ffff:FFFF:0:0:0:1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6 tag is case-insensitive", as::host, "[ipv6:2001:db8::1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6-comp", as::host, "[IPv6:2001:db8::1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6-comp ::", as::host, "[IPv6:::]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6 single colon", as::host, "[IPv6::]", errc::ipv6_literal, 6},
    {__LINE__, "§4.1.3 IPv6-comp ::1", as::host, "[IPv6:::1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6-comp 1::", as::host, "[IPv6:1::]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6-comp six groups", as::host, "[IPv6:1:2:3::4:5:6]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6-comp seven groups", as::host, "[IPv6:1:2:3:4::5:6:7]", errc::ipv6_literal, 6},
    {__LINE__, "§4.1.3 IPv6v4-full", as::host, "[IPv6:0:0:0:0:0:ffff:192.0.2.1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6v4-comp", as::host, "[IPv6:::ffff:192.0.2.1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6v4-comp four groups", as::host, "[IPv6:1:2::3:4:192.0.2.1]", errc::ok, -1},
    {__LINE__, "§4.1.3 IPv6v4-comp five groups", as::host, "[IPv6:1:2:3::4:5:192.0.2.1]", errc::ipv6_literal, 6},
    {__LINE__, "§4.1.3 IPv6 seven groups", as::host, "[IPv6:1:2:3:4:5:6:7]", errc::ipv6_literal, 6},
    {__LINE__, "§4.1.3 IPv6 nine groups", as::host, "[IPv6:1:2:3:4:5:6:7:8:9]", errc::ipv6_literal, 6},
    {__LINE__, "§4.1.3 IPv6 two ::", as::host, "[IPv6:1::2::3]", errc::ipv6_literal, 10},
    {__LINE__, "§4.1.3 IPv6 five hex digits", as::host, "[IPv6:12345::1]", errc::ipv6_literal, 6},
    {__LINE__, "§4.1.3 IPv6 non-hex", as::host, "[IPv6:g::1]", errc::ipv6_literal, 6},
    {__LINE__, "§4.1.3 IPv6 leading colon", as::host, "[IPv6::1:2:3:4:5:6:7]", errc::ipv6_literal, 6},
    {__LINE__, "§4.1.3 IPv6 trailing colon", as::host, "[IPv6:1:2:3:4:5:6:7:]", errc::ipv6_literal, 20},
    {__LINE__, "§4.1.3 IPv6 bad IPv4 tail", as::host, "[IPv6:::ffff:192.0.2.300]", errc::ipv6_literal, 21},
    {__LINE__, "§4.1.3 IPv6 IPv4 tail not last", as::host, "[IPv6:1.2.3.4::1]", errc::ipv6_literal, 13},
    {__LINE__, "§4.1.3 General-address-literal", as::host, "[x-tag:some-address]", errc::ok, -1},
    {__LINE__, "§4.1.3 General tag ends with hyphen", as::host, "[tag-:x]", errc::general_literal, 4},
    {__LINE__, "§4.1.3 General empty content", as::host, "[tag:]", errc::general_literal, 5},
    {__LINE__, "§4.1.3 General bad dcontent", as::host, "[tag:a\\b]", errc::general_literal, 6},
    {__LINE__, "§4.1.3 dcontent holds '>'", as::host, "[x-tag:a>b]", errc::ok, -1},
    {__LINE__, "§4.1.3 '>' in a General literal of a path", as::forward, "<u@[x-tag:a>b]>", errc::ok, -1},
    // --- Mailbox (§4.1.2) ---
    {__LINE__, "§4.1.2 Mailbox", as::mailbox, "user@example.test", errc::ok, -1},
    {__LINE__, "§4.1.2 Dot-string", as::mailbox, "first.last@example.test", errc::ok, -1},
    {__LINE__, "§4.1.2 atext specials", as::mailbox, "a!#$%&'*+-/=?^_`{|}~@example.test", errc::ok, -1},
    {__LINE__, "§4.1.2 leading dot", as::mailbox, ".a@example.test", errc::local_part_syntax, 0},
    {__LINE__, "§4.1.2 trailing dot", as::mailbox, "a.@example.test", errc::local_part_syntax, 2},
    {__LINE__, "§4.1.2 double dot", as::mailbox, "a..b@example.test", errc::local_part_syntax, 2},
    {__LINE__, "§4.1.2 Quoted-string", as::mailbox, "\"john smith\"@example.test", errc::ok, -1},
    {__LINE__, "§4.1.2 quoted-pairSMTP", as::mailbox, "\"a\\\"b\\\\c\"@example.test", errc::ok, -1},
    {__LINE__, "§4.1.2 empty Quoted-string", as::mailbox, "\"\"@example.test", errc::ok, -1},
    {__LINE__, "§4.1.2 unterminated quote", as::mailbox, "\"abc@example.test", errc::quoted_string, 17},
    {__LINE__, "§4.1.2 control in quote", as::mailbox, "\"a\x01\"@example.test", errc::quoted_string, 2},
    {__LINE__, "§4.1.2 quoted-pair of control", as::mailbox, "\"a\\\x01\"@example.test", errc::quoted_string, 3},
    {__LINE__, "§4.1.2 missing @", as::mailbox, "user", errc::missing_at, 4},
    {__LINE__, "§4.1.2 comma in local part", as::mailbox, "a,b@example.test", errc::local_part_syntax, 1},
    {__LINE__, "§4.1.2 address literal domain", as::mailbox, "user@[192.0.2.1]", errc::ok, -1},
    {__LINE__, "§4.5.3.1.1 local part of 64", as::mailbox, rep('a', 64) + "@example.test", errc::ok, -1},
    {__LINE__, "§4.5.3.1.1 local part of 65", as::mailbox, rep('a', 65) + "@example.test", errc::local_part_too_long,
     0},
    {__LINE__, "RFC 6531 §3.3 UTF-8 local part without SMTPUTF8", as::mailbox, "j\xc3\xb6rg@example.test",
     errc::eight_bit, 1},
    {__LINE__, "RFC 6531 §3.3 UTF-8 local part", as::mailbox, "j\xc3\xb6rg@example.test", errc::ok, -1, true},
    {__LINE__, "RFC 6531 §3.3 UTF-8 in quotes", as::mailbox, "\"j\xc3\xb6 rg\"@example.test", errc::ok, -1, true},
    // --- Path (§4.1.2) ---
    {__LINE__, "§4.1.2 Reverse-path", as::reverse, "<user@example.test>", errc::ok, -1},
    {__LINE__, "§4.1.2 null Reverse-path", as::reverse, "<>", errc::ok, -1},
    {__LINE__, "§4.1.2 null Forward-path", as::forward, "<>", errc::local_part_syntax, 1},
    {__LINE__, "§4.1.1.3 <Postmaster>", as::forward, "<Postmaster>", errc::ok, -1},
    {__LINE__, "§4.1.1.3 <postmaster> any case", as::forward, "<pOsTmAsTeR>", errc::ok, -1},
    {__LINE__, "§4.1.1.3 <Postmaster> is not a Reverse-path", as::reverse, "<Postmaster>", errc::missing_at, 11},
    {__LINE__, "§4.1.2 source route", as::forward, "<@a.example,@b.example:user@c.example>", errc::ok, -1},
    {__LINE__, "§4.1.2 source route, one hop", as::reverse, "<@a.example:user@c.example>", errc::ok, -1},
    {__LINE__, "§4.1.2 source route without ':'", as::forward, "<@a.example>", errc::source_route, 11},
    {__LINE__, "§4.1.2 source route ',' then no '@'", as::forward, "<@a.example,b.example:u@c>", errc::source_route,
     12},
    {__LINE__, "§4.1.2 missing '<'", as::forward, "user@example.test>", errc::path_open, 0},
    {__LINE__, "§4.1.2 missing '>'", as::forward, "<user@example.test", errc::path_close, 18},
    {__LINE__, "§4.1.2 no brackets, lenient", as::forward, "user@example.test", errc::ok, -1, false,
     lenient::path_brackets},
    {__LINE__, "§4.5.3.1.3 path of 256", as::forward,
     "<" + rep('a', 64) + "@" + rep('b', 63) + "." + rep('c', 63) + "." + rep('d', 61) + ">", errc::ok, -1},
    {__LINE__, "§4.5.3.1.3 path of 257", as::forward,
     "<" + rep('a', 64) + "@" + rep('b', 63) + "." + rep('c', 63) + "." + rep('d', 62) + ">", errc::path_too_long, 0},
};

class path_table : public ::testing::TestWithParam<path_case> {};

diagnostic run(const path_case& c, parse_options opts) {
  switch (c.kind) {
    case as::domain: return parse_domain(c.input, opts).diag;
    case as::host: return parse_host(c.input, opts).diag;
    case as::mailbox: return parse_mailbox(c.input, opts).diag;
    case as::reverse: return parse_path(c.input, path_kind::reverse, opts).diag;
    case as::forward: return parse_path(c.input, path_kind::forward, opts).diag;
  }
  return {};
}

TEST_P(path_table, accepts_or_rejects_with_the_named_rule) {
  const auto& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (RFC 5321 " << c.rfc << ")");
  parse_options opts;
  opts.smtputf8 = c.utf8;
  opts.relax = c.relax;
  diagnostic d = run(c, opts);
  EXPECT_EQ(rule_id(d.code), rule_id(c.expect)) << "input: " << c.input;
  if (c.offset >= 0 && !d.ok()) EXPECT_EQ(d.offset, static_cast<std::uint32_t>(c.offset));
  // Strict again: each lenient case must fail without its flag.
  if (c.relax != lenient::none) {
    opts.relax = lenient::none;
    EXPECT_FALSE(run(c, opts).ok()) << "lenient-only input passed strictly";
  }
}

INSTANTIATE_TEST_SUITE_P(rfc5321, path_table, ::testing::ValuesIn(cases));

TEST(path, fields_are_views_into_the_input) {
  const std::string in = "<@relay.example:\"joe smith\"@[IPv6:2001:db8::1]>";
  auto r = parse_path(in, path_kind::forward);
  ASSERT_TRUE(r.ok()) << r.diag.rule();
  EXPECT_EQ(r.value.source_route, "@relay.example");
  EXPECT_EQ(r.value.mbox.local_part, "\"joe smith\"");
  EXPECT_TRUE(r.value.mbox.quoted);
  EXPECT_EQ(r.value.mbox.domain.kind, host_kind::ipv6);
  EXPECT_EQ(r.value.mbox.domain.tag, "IPv6");
  EXPECT_EQ(r.value.mbox.domain.address, "2001:db8::1");
  EXPECT_GE(r.value.mbox.local_part.data(), in.data());
  EXPECT_LE(r.value.mbox.local_part.data() + r.value.mbox.local_part.size(), in.data() + in.size());
}

TEST(path, postmaster_and_null_are_flagged) {
  EXPECT_TRUE(parse_path("<>", path_kind::reverse).value.null);
  auto pm = parse_path("<Postmaster>", path_kind::forward);
  EXPECT_TRUE(pm.value.postmaster);
  EXPECT_EQ(pm.value.mbox.local_part, "Postmaster");
  EXPECT_FALSE(parse_path("<Postmaster@example.test>", path_kind::forward).value.postmaster);
}

}  // namespace
}  // namespace smtpkit
