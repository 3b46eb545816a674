// fast_path_test.cpp — the MAIL/RCPT and EHLO/HELO fast paths of
// parse_command (RFC 5321 §4.1.1.1-3, §4.1.2; command_fast.hpp) against
// the general parser they must equal: the same diagnostic and every field
// at the same place, for the boundaries of their windows and for every
// octet at every position of typical lines. Every test runs once for each
// set (AVX-512 VBMI, AVX2), forced in turn; a set this CPU cannot run is
// skipped, and says so. The fuzz target fuzz_command runs the same
// comparison, for every set, on every input it makes.
#include "smtpkit/command.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace smtpkit {
namespace {

parse_options strict() { return {}; }
parse_options relaxed() {
  parse_options o;
  o.relax = lenient::all;
  return o;
}
parse_options utf8() {
  parse_options o;
  o.smtputf8 = true;
  return o;
}

// A line that parses and lies within one window (64 octets) from its path
// on: the fast path must take it, or the comparisons prove little.
bool short_and_good(const std::string& line) { return line.size() <= 64 && parse_command(line).ok(); }

::testing::AssertionResult same_as_general(const std::string& line) {
  for (const parse_options& opts : {strict(), relaxed(), utf8()}) {
    const command_result fast = parse_command(line, opts);
    const command_result general = detail::parse_command_general(line, opts);
    if (!detail::same_result(fast, general))
      return ::testing::AssertionFailure()
             << "differs from the general parser (" << general.diag.rule() << " at " << general.diag.offset << " vs "
             << fast.diag.rule() << " at " << fast.diag.offset << "): \"" << line << "\"";
  }
  return ::testing::AssertionSuccess();
}

// Lines of everyday traffic, each one the fast path must take.
const std::vector<std::string> typical = {
    "MAIL FROM:<john.smith@example.com>",
    "MAIL FROM:<>",
    "MAIL FROM:<>  SIZE=1",
    "mail from:<a@b.example> size=12345 body=8bitmime",
    "MAIL FROM:<bounce+list=example.org@lists.example.net> SIZE=1048576 BODY=8BITMIME RET=HDRS ENVID=QQ314159 AUTH=<>",
    "MAIL FROM:<a_b-c.d@mx-1.example.co.uk> SMTPUTF8 REQUIRETLS MT-PRIORITY=-3",
    "RCPT TO:<jane@example.org>",
    "rcpt to:<Jane.Doe@Example.ORG>",
    "RCPT TO:<jane@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;jane@example.org",
    "RCPT TO:<jane+tag@example.org> NOTIFY=NEVER ORCPT=rfc822;jane+2Btag@example.org",
    "RCPT TO:<x@y.z> NOTIFY=DELAY,FAILURE,SUCCESS",
    "RCPT TO:<Postmaster>",
    "rcpt to:<pOSTMASTER> NOTIFY=NEVER",
    "RCPT TO:<\"john smith\"@example.com>",
    "MAIL FROM:<\"\"@example.com> SIZE=10",
    "RCPT TO:<\"a\\\"b\"@example.com> NOTIFY=SUCCESS",
    "RCPT TO:<a@[192.0.2.1]>",
    "MAIL FROM:<\"x y\"@[255.255.255.255]> SIZE=1 BODY=7BIT",
    "RCPT TO:<a@[IPv6:2001:db8::1]> ORCPT=rfc822;a@[IPv6:2001:db8::1]",
    "RCPT TO:<a@[x-tag:content]>",
};

// Each test with the set of its parameter in use, then the default again.
class command_fast_path : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!detail::use_command_fast_paths(GetParam()))
      GTEST_SKIP() << "this CPU does not run the " << GetParam() << " set";
    ASSERT_STREQ(detail::command_fast_path_name(), GetParam());
  }
  void TearDown() override { ASSERT_TRUE(detail::use_command_fast_paths(detail::command_fast_path_choices().front())); }
};

// The default is the most capable set this CPU runs; "none" leaves every
// line to the general parser; a set that does not exist changes nothing.
TEST(command_fast_path_choice, defaults_to_the_most_capable_set_and_can_be_forced) {
  const std::vector<std::string_view> choices = detail::command_fast_path_choices();
  ASSERT_FALSE(choices.empty());
  EXPECT_EQ(choices.back(), "none");
  EXPECT_EQ(std::string_view(detail::command_fast_path_name()), choices.front());
  const std::string line = "RCPT TO:<jane@example.org>";
  EXPECT_EQ(detail::command_fast_path_takes(line), choices.front() != "none");
  EXPECT_FALSE(detail::use_command_fast_paths("sse9"));
  EXPECT_EQ(std::string_view(detail::command_fast_path_name()), choices.front());
  ASSERT_TRUE(detail::use_command_fast_paths("none"));
  EXPECT_FALSE(detail::command_fast_path_available());
  EXPECT_FALSE(detail::command_fast_path_takes(line));
  EXPECT_TRUE(parse_command(line).ok());
  ASSERT_TRUE(detail::use_command_fast_paths(choices.front()));
}

INSTANTIATE_TEST_SUITE_P(sets, command_fast_path, ::testing::Values("avx512", "avx2"),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

TEST_P(command_fast_path, takes_everyday_lines_and_equals_the_general_parser) {
  for (const std::string& line : typical) {
    SCOPED_TRACE(line);
    // "<>  SIZE" has two SPs: refused (RFC 5321 §4.1.2), by the general parser.
    const bool good = line.find("  ") == std::string::npos;
    EXPECT_EQ(detail::command_fast_path_takes(line), good);
    EXPECT_EQ(parse_command(line).ok(), good);
    EXPECT_TRUE(same_as_general(line));
  }
}

TEST_P(command_fast_path, leaves_other_shapes_to_the_general_parser) {
  // Each is valid (or a precise error) only by rules the fast path does not
  // implement: the general parser must see it.
  for (const std::string line : {"RCPT TO:<@relay.example:a@example.com>",
                                 "MAIL FROM: <a@example.com>",
                                 "MAIL FROM:a@example.com",
                                 "MAIL FROM:<a@example.com> SIZE=1 ",
                                 "MAIL FROM:<a@example.com> SIZE=x",
                                 "MAIL FROM:<a@example.com> FOO=1",
                                 "MAIL FROM:<a@example.com> SIZE=1 SIZE=2",
                                 "RCPT TO:<a@example.com> SIZE=1",
                                 "RCPT TO:<>",
                                 "MAIL FROM:<a..b@example.com>",
                                 "MAIL FROM:<a@-example.com>",
                                 "MAIL FROM:<a@example-.com>",
                                 "MAIL FROM:<a@example..com>",
                                 "MAIL FROM:<r\xc3\xa9@example.com>",
                                 "MAIL FROM:<a@example.com> ENVID=a+2",
                                 "MAIL FROM:<Postmaster>",
                                 "RCPT TO:<Postmastr>",
                                 "RCPT TO:<@relay.example:Postmaster>",
                                 "RCPT TO:<\"a b@example.com>",
                                 "RCPT TO:<\"a\"b\"@example.com>",
                                 "RCPT TO:<\"a\x01\"@example.com>",
                                 "RCPT TO:<a@[192.0.2.256]>",
                                 "RCPT TO:<a@[192.0.2]>",
                                 "RCPT TO:<a@[192.0.2.1>",
                                 "RCPT TO:<a@[]>",
                                 "RCPT TO:<a@[IPv6:2001:db8:::1]>",
                                 "RCPT TO:<a@[192.0.2.1]"}) {
    SCOPED_TRACE(line);
    EXPECT_FALSE(detail::command_fast_path_takes(line));
    EXPECT_TRUE(same_as_general(line));
  }
}

// The octet counts where a window, a local part (64, §4.5.3.1.1) or a
// label (63, RFC 1035 §2.3.4) ends.
TEST_P(command_fast_path, equals_the_general_parser_at_every_length_boundary) {
  for (std::size_t local = 1; local <= 70; ++local) {
    for (std::size_t domain : {1u, 2u, 30u, 52u, 53u, 54u, 61u, 62u, 63u, 64u, 65u, 70u}) {
      const std::string mailbox = std::string(local, 'l') + "@" + std::string(domain, 'd');
      for (const std::string& line : {"MAIL FROM:<" + mailbox + ">", "RCPT TO:<" + mailbox + ">",
                                      "MAIL FROM:<" + mailbox + "> SIZE=" + std::string(local % 21 + 1, '7')}) {
        ASSERT_TRUE(same_as_general(line));
        if (short_and_good(line)) EXPECT_TRUE(detail::command_fast_path_takes(line)) << line;
      }
    }
  }
  // EHLO and HELO domains up to and past 63 octets (a label's limit), in
  // labels of every size.
  for (std::size_t size = 1; size <= 70; ++size) {
    for (std::size_t label : {1u, 5u, 62u, 63u, 64u}) {
      std::string domain;
      for (std::size_t i = 0; domain.size() < size; ++i) domain += (i % (label + 1) == label) ? '.' : 'd';
      if (domain.back() == '.') domain.back() = 'e';
      for (const std::string& line : {"EHLO " + domain, "HELO " + domain, "EHLO " + domain + " "})
        ASSERT_TRUE(same_as_general(line));
    }
  }
  // Parameters that end before, at and after the end of a window.
  for (std::size_t envid = 1; envid <= 140; ++envid) {
    const std::string value(envid, 'E');
    for (const std::string& line :
         {"MAIL FROM:<a@b.example> ENVID=" + value, "MAIL FROM:<a@b.example> ENVID=" + value + " SIZE=5",
          "MAIL FROM:<> SIZE=5 ENVID=" + value + " BODY=7BIT", "RCPT TO:<a@b.example> ORCPT=rfc822;" + value,
          "MAIL FROM:<a@b.example> " + std::string(envid, 'X')}) {
      ASSERT_TRUE(same_as_general(line));
      if (short_and_good(line)) EXPECT_TRUE(detail::command_fast_path_takes(line)) << line;
    }
  }
}

// SIZE's digits are decoded eight at a time (RFC 1870 §6): every length,
// every digit in every place, leading zeros, values past eight digits (the
// general decoder's), each equal to the general parser and to the number.
// Decimal digits as a number; past 2^64-1 it saturates, as SIZE does.
std::uint64_t number(const std::string& digits) {
  constexpr std::uint64_t max = ~std::uint64_t{0};
  std::uint64_t n = 0;
  for (char c : digits) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    n = n > (max - d) / 10 ? max : n * 10 + d;
  }
  return n;
}

TEST_P(command_fast_path, decodes_size_values_like_the_general_parser) {
  for (std::size_t digits = 1; digits <= 20; ++digits) {
    for (int first = 0; first <= 9; ++first) {
      std::string value;
      for (std::size_t i = 0; i < digits; ++i) value += static_cast<char>('0' + (first + 7 * i) % 10);
      for (const std::string& line :
           {"MAIL FROM:<a@b.example> SIZE=" + value, "MAIL FROM:<a@b.example> SIZE=" + value + " BODY=7BIT",
            "MAIL FROM:<> BODY=8BITMIME SIZE=" + value}) {
        SCOPED_TRACE(line);
        ASSERT_TRUE(same_as_general(line));
        const command_result r = parse_command(line);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.cmd.typed.size, number(value));
        EXPECT_TRUE(detail::command_fast_path_takes(line));
      }
    }
  }
}

// Every octet at every position of lines with each part the fast path
// parses: 256 variants a position, each compared with the general parser
// under three sets of options.
TEST_P(command_fast_path, equals_the_general_parser_for_every_octet_at_every_position) {
  const std::string lines[] = {
      "MAIL FROM:<a.b-c_d+e@mx-1.example.org> SIZE=123 BODY=8BITMIME RET=FULL ENVID=Q+2BQ AUTH=<>",
      "RCPT TO:<x.y@a-b.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x+2By@a-b.example",
      "MAIL FROM:<> SMTPUTF8 MT-PRIORITY=4 REQUIRETLS",
      "RCPT TO:<Postmaster> NOTIFY=NEVER",
      "RCPT TO:<\"a b\"@[192.0.2.1]> NOTIFY=DELAY",
      "EHLO mx-1.a.example",
      "HELO relay.example.org",
  };
  std::size_t taken = 0, accepted = 0;
  for (const std::string& base : lines) {
    for (std::size_t at = 0; at < base.size(); ++at) {
      std::string line = base;
      for (int octet = 0; octet < 256; ++octet) {
        line[at] = static_cast<char>(octet);
        ASSERT_TRUE(same_as_general(line)) << "octet " << octet << " at " << at;
        taken += detail::command_fast_path_takes(line);
        accepted += parse_command(line).ok();
      }
    }
  }
  // Every variant that still parses is one the fast path takes.
  EXPECT_EQ(taken, accepted);
  EXPECT_GT(accepted, 1000u);
}

}  // namespace
}  // namespace smtpkit
