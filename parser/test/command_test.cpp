// command_test.cpp — command lines (RFC 5321 §4.1.1, §4.1.2; RFC 3207,
// RFC 4954, RFC 3030, RFC 6531). Every case is also framed from a stream
// split at every byte before it is parsed.
#include "smtpkit/command.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "split.hpp"
#include "test_support.hpp"

namespace smtpkit {
namespace {

struct cmd_case {
  int line;
  const char* rfc;
  std::string input;
  errc expect;
  int offset = -1;
  verb kind = verb::unknown;  // checked when not unknown
  lenient relax = lenient::none;
  bool utf8 = false;
};

const cmd_case cases[] = {
    // --- EHLO / HELO §4.1.1.1 ---
    {__LINE__, "RFC 5321 §4.1.1.1 EHLO", "EHLO client.example.test", errc::ok, -1, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 verbs are case-insensitive", "ehlo client.example", errc::ok, -1, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 EHLO mixed case", "eHlO client.example", errc::ok, -1, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 EHLO address literal", "EHLO [192.0.2.1]", errc::ok, -1, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 EHLO IPv6 literal", "EHLO [IPv6:2001:db8::1]", errc::ok, -1, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 EHLO without argument", "EHLO", errc::missing_argument, 4, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 EHLO SP only", "EHLO ", errc::missing_argument, 4, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 EHLO two SP", "EHLO  client.example", errc::extra_space, 5, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 EHLO with trailing text", "EHLO client.example hello", errc::unexpected_argument, 20,
     verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1 trailing SP", "EHLO client.example ", errc::trailing_whitespace, 19, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1 trailing SP tolerated", "EHLO client.example ", errc::ok, -1, verb::ehlo,
     lenient::trailing_whitespace},
    {__LINE__, "RFC 5321 §4.1.2 EHLO underscore", "EHLO my_host", errc::domain_syntax, 7, verb::ehlo},
    {__LINE__, "RFC 5321 §4.1.1.1 HELO", "HELO client.example", errc::ok, -1, verb::helo},
    {__LINE__, "RFC 5321 §4.1.1.1 HELO literal", "HELO [192.0.2.1]", errc::helo_address_literal, 5, verb::helo},
    {__LINE__, "RFC 5321 §4.1.1.1 HELO literal lenient", "HELO [192.0.2.1]", errc::ok, -1, verb::helo,
     lenient::helo_address_literal},
    // --- MAIL §4.1.1.2 ---
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL", "MAIL FROM:<a@example.test>", errc::ok, -1, verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL lower case", "mail from:<a@example.test>", errc::ok, -1, verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL null path", "MAIL FROM:<>", errc::ok, -1, verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL SP after colon", "MAIL FROM: <a@example.test>", errc::space_after_colon, 10,
     verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL SP after colon lenient", "MAIL FROM: <a@example.test>", errc::ok, -1, verb::mail,
     lenient::space_after_colon},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL without brackets", "MAIL FROM:a@example.test", errc::path_open, 10, verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL without brackets lenient", "MAIL FROM:a@example.test", errc::ok, -1, verb::mail,
     lenient::path_brackets},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL TO:", "MAIL TO:<a@example.test>", errc::mail_from_keyword, 4, verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL FROM without colon", "MAIL FROM <a@example.test>", errc::mail_from_keyword, 4,
     verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL no argument", "MAIL", errc::mail_from_keyword, 4, verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL empty path", "MAIL FROM:", errc::path_open, 10, verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL SIZE", "MAIL FROM:<a@example.test> SIZE=1000", errc::ok, -1, verb::mail},
    {__LINE__, "RFC 5321 §4.1.1.2 MAIL params",
     "MAIL FROM:<a@example.test> BODY=8BITMIME SIZE=12 RET=HDRS ENVID=QQ314159", errc::ok, -1, verb::mail},
    {__LINE__, "RFC 5321 §4.1.2 MAIL two SP before params", "MAIL FROM:<a@example.test>  SIZE=1", errc::extra_space, 27,
     verb::mail},
    {__LINE__, "RFC 5321 §4.1.2 MAIL text after path", "MAIL FROM:<a@example.test>x", errc::trailing_data, 26,
     verb::mail},
    {__LINE__, "RFC 5321 §4.1.1 MAIL trailing SP", "MAIL FROM:<a@example.test> ", errc::trailing_whitespace, 26,
     verb::mail},
    {__LINE__, "RFC 5321 §4.1.1 MAIL trailing SP tolerated", "MAIL FROM:<a@example.test> ", errc::ok, -1, verb::mail,
     lenient::trailing_whitespace},
    {__LINE__, "RFC 5321 §4.1.1 MAIL params trailing SP tolerated", "MAIL FROM:<a@example.test> SIZE=1 ", errc::ok, -1,
     verb::mail, lenient::trailing_whitespace},
    {__LINE__, "RFC 6531 §3.3 MAIL UTF-8 without SMTPUTF8", "MAIL FROM:<j\xc3\xb6rg@example.test>", errc::eight_bit, 12,
     verb::mail},
    {__LINE__, "RFC 6531 §3.3 MAIL UTF-8", "MAIL FROM:<j\xc3\xb6rg@example.test> SMTPUTF8", errc::ok, -1, verb::mail,
     lenient::none, true},
    {__LINE__, "RFC 5321 §4.1.2 MAIL control in path", "MAIL FROM:<a\x01@example.test>", errc::local_part_syntax, 12,
     verb::mail},
    // --- RCPT §4.1.1.3 ---
    {__LINE__, "RFC 5321 §4.1.1.3 RCPT", "RCPT TO:<b@example.test>", errc::ok, -1, verb::rcpt},
    {__LINE__, "RFC 5321 §4.1.1.3 RCPT <Postmaster>", "RCPT TO:<Postmaster>", errc::ok, -1, verb::rcpt},
    {__LINE__, "RFC 5321 §4.1.1.3 RCPT <Postmaster@domain>", "RCPT TO:<Postmaster@example.test>", errc::ok, -1,
     verb::rcpt},
    {__LINE__, "RFC 5321 §4.1.1.3 RCPT null path", "RCPT TO:<>", errc::local_part_syntax, 9, verb::rcpt},
    {__LINE__, "RFC 5321 §4.1.1.3 RCPT source route", "RCPT TO:<@hosta.example,@hostb.example:user@hostc.example>",
     errc::ok, -1, verb::rcpt},
    {__LINE__, "RFC 5321 §4.1.1.3 RCPT FROM:", "RCPT FROM:<b@example.test>", errc::rcpt_to_keyword, 4, verb::rcpt},
    {__LINE__, "RFC 3461 §4.1 RCPT NOTIFY",
     "RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.test", errc::ok, -1, verb::rcpt},
    {__LINE__, "RFC 3461 §4.1 NOTIFY on MAIL", "MAIL FROM:<a@example.test> NOTIFY=NEVER", errc::param_misplaced, 27,
     verb::mail},
    {__LINE__, "RFC 1870 §6 SIZE on RCPT", "RCPT TO:<b@example.test> SIZE=1", errc::param_misplaced, 25, verb::rcpt},
    // --- DATA RSET QUIT STARTTLS §4.1.1.4, 4.1.1.5, 4.1.1.10, RFC 3207 §4 ---
    {__LINE__, "RFC 5321 §4.1.1.4 DATA", "DATA", errc::ok, -1, verb::data},
    {__LINE__, "RFC 5321 §4.1.1 DATA argument", "DATA x", errc::unexpected_argument, 5, verb::data},
    {__LINE__, "RFC 5321 §4.1.1 DATA trailing SP", "DATA ", errc::trailing_whitespace, 4, verb::data},
    {__LINE__, "RFC 5321 §4.1.1.5 RSET", "RSET", errc::ok, -1, verb::rset},
    {__LINE__, "RFC 5321 §4.1.1.5 RSET argument", "RSET now", errc::unexpected_argument, 5, verb::rset},
    {__LINE__, "RFC 5321 §4.1.1.10 QUIT", "quit", errc::ok, -1, verb::quit},
    {__LINE__, "RFC 3207 §4 STARTTLS", "STARTTLS", errc::ok, -1, verb::starttls},
    {__LINE__, "RFC 3207 §4 starttls case", "StartTLS", errc::ok, -1, verb::starttls},
    {__LINE__, "RFC 3207 §4 STARTTLS argument", "STARTTLS now", errc::unexpected_argument, 9, verb::starttls},
    // --- VRFY EXPN HELP NOOP §4.1.1.6-9 ---
    {__LINE__, "RFC 5321 §4.1.1.6 VRFY", "VRFY Smith", errc::ok, -1, verb::vrfy},
    {__LINE__, "RFC 5321 §4.1.1.6 VRFY quoted", "VRFY \"John Smith\"", errc::ok, -1, verb::vrfy},
    {__LINE__, "RFC 5321 §4.1.1.6 VRFY no argument", "VRFY", errc::missing_argument, 4, verb::vrfy},
    // §3.5.1: "a user name or a user name and domain", "cannot be further restricted"
    {__LINE__, "RFC 5321 §3.5.1 VRFY user@domain", "VRFY bob@example.com", errc::ok, -1, verb::vrfy},
    {__LINE__, "RFC 5321 §3.5.1 VRFY path form", "VRFY <a@example.test>", errc::ok, -1, verb::vrfy},
    {__LINE__, "RFC 5321 §3.5.1 EXPN words", "EXPN Example People", errc::ok, -1, verb::expn},
    {__LINE__, "RFC 5321 §2.4 VRFY 8-bit without SMTPUTF8", "VRFY j\xc3\xb6rg", errc::eight_bit, 6, verb::vrfy},
    {__LINE__, "RFC 5321 §4.1.2 HELP argument is a String", "HELP <a@example.test>", errc::string_syntax, 5,
     verb::help},
    {__LINE__, "RFC 6531 §3.7.4 VRFY SMTPUTF8", "VRFY j\xc3\xb6rg SMTPUTF8", errc::ok, -1, verb::vrfy, lenient::none,
     true},
    {__LINE__, "RFC 5321 §4.1.1.7 EXPN", "EXPN Example-People", errc::ok, -1, verb::expn},
    {__LINE__, "RFC 5321 §4.1.1.8 HELP", "HELP", errc::ok, -1, verb::help},
    {__LINE__, "RFC 5321 §4.1.1.8 HELP topic", "HELP MAIL", errc::ok, -1, verb::help},
    {__LINE__, "RFC 5321 §4.1.1.8 HELP two words", "HELP MAIL FROM", errc::unexpected_argument, 10, verb::help},
    {__LINE__, "RFC 5321 §4.1.1.9 NOOP", "NOOP", errc::ok, -1, verb::noop},
    {__LINE__, "RFC 5321 §4.1.1.9 NOOP String", "NOOP ping", errc::ok, -1, verb::noop},
    {__LINE__, "RFC 5321 §4.1.1 NOOP trailing SP", "NOOP ", errc::trailing_whitespace, 4, verb::noop},
    // --- AUTH RFC 4954 §4 ---
    {__LINE__, "RFC 4954 §4 AUTH", "AUTH LOGIN", errc::ok, -1, verb::auth},
    {__LINE__, "RFC 4954 §4 AUTH initial response", "AUTH PLAIN AHRlc3QAdGVzdA==", errc::ok, -1, verb::auth},
    {__LINE__, "RFC 4954 §4 AUTH empty initial response", "AUTH PLAIN =", errc::ok, -1, verb::auth},
    {__LINE__, "RFC 4954 §4 AUTH bad base64", "AUTH PLAIN AHRlc3QAdGVzdA=", errc::auth_initial_response, 25,
     verb::auth},
    {__LINE__, "RFC 4954 §4 AUTH base64 bad char", "AUTH PLAIN AH*lc3Q=", errc::auth_initial_response, 13, verb::auth},
    {__LINE__, "RFC 4954 §4 AUTH lower-case mechanism", "AUTH plain", errc::auth_mechanism, 5, verb::auth},
    {__LINE__, "RFC 4954 §4 AUTH lower-case mechanism lenient", "AUTH plain", errc::ok, -1, verb::auth,
     lenient::auth_mechanism_case},
    {__LINE__, "RFC 4954 §4 AUTH mechanism of 21", "AUTH ABCDEFGHIJKLMNOPQRSTU", errc::auth_mechanism, 5, verb::auth},
    {__LINE__, "RFC 4954 §4 AUTH no mechanism", "AUTH", errc::missing_argument, 4, verb::auth},
    {__LINE__, "RFC 4954 §4 AUTH SCRAM mechanism", "AUTH SCRAM-SHA-256", errc::ok, -1, verb::auth},
    // --- BDAT RFC 3030 §2 ---
    {__LINE__, "RFC 3030 §2 BDAT", "BDAT 1000", errc::ok, -1, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT LAST", "BDAT 0 LAST", errc::ok, -1, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT last any case", "bdat 12 last", errc::ok, -1, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT no size", "BDAT LAST", errc::bdat_size, 5, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT negative", "BDAT -1", errc::bdat_size, 5, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT overflow", "BDAT 99999999999999999999999", errc::bdat_size, 5, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT 2^64", "BDAT 18446744073709551616", errc::bdat_size, 5, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT 2^64-1", "BDAT 18446744073709551615 LAST", errc::ok, -1, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT leading zeros", "BDAT 000000000000000000000000001", errc::ok, -1, verb::bdat},
    {__LINE__, "RFC 3030 §2 BDAT bad marker", "BDAT 10 FIRST", errc::bdat_last, 8, verb::bdat},
    // --- unknown and malformed §4.1.1 ---
    {__LINE__, "RFC 5321 §4.1.1 unknown verb", "XYZZY", errc::unknown_verb, 0},
    {__LINE__, "RFC 5321 §4.1.1 unknown verb with argument", "MAILX FROM:<a@b>", errc::unknown_verb, 0},
    {__LINE__, "RFC 5321 §4.1.1 empty line", "", errc::empty_command, 0},
    {__LINE__, "RFC 5321 §4.1.1 leading SP", " NOOP", errc::extra_space, 0},
};

class command_table : public ::testing::TestWithParam<cmd_case> {};

TEST_P(command_table, parses_with_the_named_rule) {
  const auto& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (" << c.rfc << ")");
  parse_options opts;
  opts.smtputf8 = c.utf8;
  opts.relax = c.relax;
  auto r = parse_command(c.input, opts);
  EXPECT_EQ(r.diag.rule(), rule_id(c.expect)) << "input: " << c.input << " at " << r.diag.offset;
  // The MAIL/RCPT fast path, where it runs, fills exactly what the general parser does.
  EXPECT_TRUE(detail::same_result(r, detail::parse_command_general(c.input, opts))) << "input: " << c.input;
  if (c.offset >= 0 && !r.diag.ok()) EXPECT_EQ(r.diag.offset, static_cast<std::uint32_t>(c.offset));
  if (c.kind != verb::unknown) EXPECT_EQ(to_string(r.cmd.kind), to_string(c.kind));
  if (c.relax != lenient::none) {
    parse_options strict = opts;
    strict.relax = lenient::none;
    EXPECT_FALSE(parse_command(c.input, strict).ok()) << "lenient-only input passed strictly";
  }
  // Streaming: framed from every split of "input CRLF", the same line comes out.
  std::string wire = c.input + "\r\n";
  std::vector<test::framed> expect{{line_status::line, line_ending::crlf, c.input, errc::ok}};
  bool has_ctl = c.input.find_first_of(std::string("\x01\0", 2)) != std::string::npos;
  if (!has_ctl) EXPECT_EQ(test::check_splits(wire, expect), "");
}

INSTANTIATE_TEST_SUITE_P(rfc5321, command_table, ::testing::ValuesIn(cases));

// parse_command into a kept command clears only what the previous verb may
// have set: after every case of the table, every case must still come out
// exactly as a fresh parse_command gives it.
TEST(command, a_reused_command_equals_a_fresh_result_after_any_other) {
  auto options = [](const cmd_case& c) {
    parse_options o;
    o.smtputf8 = c.utf8;
    o.relax = c.relax;
    return o;
  };
  for (const cmd_case& before : cases) {
    for (const cmd_case& now : cases) {
      command kept;
      (void)parse_command(before.input, kept, options(before));
      command_result reused;
      reused.diag = parse_command(now.input, kept, options(now));
      reused.cmd = kept;
      ASSERT_TRUE(detail::same_result(reused, parse_command(now.input, options(now))))
          << "after " << before.input << " (line " << before.line << "): " << now.input << " (line " << now.line << ")";
    }
  }
}

// RFC 5321 §2.4: verbs are case-insensitive. Every verb in all 16 case
// forms of its letters, and no other word of four letters, is recognised.
TEST(command, recognises_every_verb_in_any_case_and_no_other_word) {
  const std::pair<std::string_view, verb> verbs[] = {
      {"ehlo", verb::ehlo}, {"helo", verb::helo}, {"mail", verb::mail}, {"rcpt", verb::rcpt}, {"data", verb::data},
      {"rset", verb::rset}, {"vrfy", verb::vrfy}, {"expn", verb::expn}, {"help", verb::help}, {"noop", verb::noop},
      {"quit", verb::quit}, {"auth", verb::auth}, {"bdat", verb::bdat}};
  for (const auto& [name, kind] : verbs) {
    for (unsigned upper = 0; upper < 16; ++upper) {
      std::string word(name);
      for (unsigned i = 0; i < 4; ++i)
        if (upper >> i & 1) word[i] = static_cast<char>(word[i] - 'a' + 'A');
      EXPECT_EQ(parse_command(word).cmd.kind, kind) << word;
    }
  }
  std::size_t known = 0;
  std::string word;
  for (char a = 'a'; a <= 'z'; ++a)
    for (char b = 'a'; b <= 'z'; ++b)
      for (char c = 'a'; c <= 'z'; ++c)
        for (char d = 'a'; d <= 'z'; ++d) {
          word = {a, b, c, d};
          const verb kind = parse_command(word).cmd.kind;
          if (kind == verb::unknown) continue;
          ++known;
          std::string upper = word;
          for (char& x : upper) x = static_cast<char>(x - 'a' + 'A');
          EXPECT_EQ(to_string(kind), upper);
        }
  EXPECT_EQ(known, std::size(verbs));
}

// RFC 4954 §4: an initial response is base64 (padding checked) or "=".
// Every response of up to 6 octets from base64 octets, "=", HT (which ends
// the response: trailing white space, or an empty response) and two that
// are neither is accepted exactly when is_base64 accepts it.
TEST(command, auth_initial_response_is_base64_or_empty) {
  const std::string alphabet = "Ab0+/=*-\t";
  std::size_t accepted = 0;
  for (std::size_t len = 1; len <= 6; ++len) {
    std::size_t count = 1;
    for (std::size_t i = 0; i < len; ++i) count *= alphabet.size();
    for (std::size_t n = 0; n < count; ++n) {
      std::string response;
      for (std::size_t i = 0, k = n; i < len; ++i, k /= alphabet.size()) response += alphabet[k % alphabet.size()];
      // Strict: no HT anywhere; lenient: trailing HTs after a good response.
      const std::size_t text = response.find_last_not_of('\t') + 1;
      const std::string_view before_tabs = std::string_view(response).substr(0, text);
      const bool good =
          before_tabs.find('\t') == std::string_view::npos && (before_tabs == "=" || is_base64(before_tabs));
      const command_result strict = parse_command("AUTH PLAIN " + response);
      ASSERT_EQ(strict.ok(), good && text == response.size()) << response;
      parse_options lenient_ws;
      lenient_ws.relax = lenient::trailing_whitespace;
      ASSERT_EQ(parse_command("AUTH PLAIN " + response, lenient_ws).ok(), good) << response;
      const bool want = good && text == response.size();
      if (before_tabs.find('\t') == std::string_view::npos && !good)
        ASSERT_EQ(strict.diag.code, errc::auth_initial_response) << response;
      accepted += want;
    }
  }
  EXPECT_EQ(accepted, 776u);  // "=", and every whole quantum of base64 octets and padding, strictly
}

TEST(command, fields_of_mail) {
  auto r = parse_command("MAIL FROM:<a@example.test> SIZE=1000 BODY=8BITMIME XFOO=bar");
  EXPECT_EQ(r.diag.code, errc::param_unknown);  // reported, and the rest still decoded
  EXPECT_EQ(r.cmd.kind, verb::mail);
  EXPECT_EQ(r.cmd.address.mbox.local_part, "a");
  EXPECT_EQ(r.cmd.address.mbox.domain.text, "example.test");
  EXPECT_EQ(r.cmd.typed.size, 1000u);
  EXPECT_EQ(r.cmd.typed.body, body_type::eight_bit_mime);
  EXPECT_EQ(r.cmd.typed.unknown, 1u);
  EXPECT_EQ(r.cmd.params.size(), 3u);
}

TEST(command, fields_of_auth_and_bdat) {
  auto a = parse_command("AUTH PLAIN =");
  EXPECT_EQ(a.cmd.mechanism, "PLAIN");
  EXPECT_TRUE(a.cmd.has_initial_response);
  EXPECT_EQ(a.cmd.initial_response, "=");
  auto b = parse_command("BDAT 4096 LAST");
  EXPECT_EQ(b.cmd.chunk_size, 4096u);
  EXPECT_TRUE(b.cmd.last);
  auto c = parse_command("BDAT 18446744073709551615");
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.cmd.chunk_size, 18446744073709551615ull);
}

TEST(command, auth_responses) {
  EXPECT_TRUE(parse_auth_response("*").value.cancel);
  EXPECT_TRUE(parse_auth_response("dGVzdA==").ok());
  EXPECT_TRUE(parse_auth_response("").ok());
  EXPECT_EQ(parse_auth_response("dGVzdA=").diag.code, errc::auth_response);
}

// same_result is what holds the fast paths and the kept command to the
// general parser: a difference in any one field must show.
TEST(command, same_result_notices_any_field) {
  const std::vector<void (*)(command&)> changes = {
      [](command& c) { c.kind = verb::noop; },
      [](command& c) { c.verb_text = "x"; },
      [](command& c) { c.argument = "x"; },
      [](command& c) { c.client.kind = host_kind::ipv4; },
      [](command& c) { c.address.mbox.domain.address = "x"; },
      [](command& c) { c.address.bracketed = false; },
      [](command& c) { c.params = param_list("x"); },
      [](command& c) { c.typed.size = 1; },
      [](command& c) { c.typed.orcpt = "x"; },
      [](command& c) { c.text = "x"; },
      [](command& c) { c.smtputf8_flag = true; },
      [](command& c) { c.mechanism = "x"; },
      [](command& c) { c.initial_response = "x"; },
      [](command& c) { c.has_initial_response = true; },
      [](command& c) { c.chunk_size = 1; },
      [](command& c) { c.last = true; },
  };
  const command_result fresh;
  EXPECT_TRUE(detail::same_result(fresh, fresh));
  for (std::size_t i = 0; i < changes.size(); ++i) {
    command_result changed;
    changes[i](changed.cmd);
    EXPECT_FALSE(detail::same_result(fresh, changed)) << "change " << i;
    EXPECT_FALSE(detail::same_result(changed, fresh)) << "change " << i;
  }
  command_result other_diag;
  other_diag.diag = {errc::unknown_verb, 0};
  EXPECT_FALSE(detail::same_result(fresh, other_diag));
}

}  // namespace
}  // namespace smtpkit
