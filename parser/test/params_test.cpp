// params_test.cpp — esmtp-param lists and typed extension values
// (RFC 5321 §4.1.2; RFC 1870, 6152, 3030, 6531, 3461, 4954, 6710, 8689).
#include "smtpkit/params.hpp"

#include <gtest/gtest.h>

#include <string>

namespace smtpkit {
namespace {

struct param_case {
  int line;
  const char* rfc;
  std::string input;
  bool mail;
  errc expect;
  int offset = -1;
  bool utf8 = false;
};

const param_case cases[] = {
    {__LINE__, "RFC 5321 §4.1.2 keyword only", "SMTPUTF8", true, errc::ok},
    {__LINE__, "RFC 5321 §4.1.2 keyword=value", "SIZE=12345", true, errc::ok},
    {__LINE__, "RFC 5321 §4.1.2 keyword starts with digit", "8X=1", true, errc::param_unknown, 0},
    {__LINE__, "RFC 5321 §4.1.2 keyword starts with hyphen", "-X=1", true, errc::param_syntax, 0},
    {__LINE__, "RFC 5321 §4.1.2 empty value", "SIZE=", true, errc::param_syntax, 5},
    {__LINE__, "RFC 5321 §4.1.2 '=' in value", "ENVID=a=b", true, errc::param_syntax, 7},
    {__LINE__, "RFC 5321 §4.1.2 control in value", "ENVID=a\x01", true, errc::param_syntax, 7},
    {__LINE__, "RFC 5321 §4.1.2 two SP", "SIZE=1  BODY=7BIT", true, errc::extra_space, 7},
    {__LINE__, "RFC 5321 §4.1.2 trailing SP", "SIZE=1 ", true, errc::trailing_whitespace, 6},
    {__LINE__, "RFC 5321 §4.1.1.11 unknown", "XFOO=1", true, errc::param_unknown, 0},
    {__LINE__, "RFC 5321 §4.1.1.11 duplicate", "SIZE=1 SIZE=2", true, errc::param_duplicate, 7},
    {__LINE__, "RFC 5321 §4.1.1.11 duplicate, case differs", "SIZE=1 size=2", true, errc::param_duplicate, 7},
    {__LINE__, "RFC 5321 §4.1.1.11 duplicate unknown", "XA=1 XA=2", true, errc::param_unknown, 0},
    {__LINE__, "RFC 1870 §6 SIZE", "SIZE=0", true, errc::ok},
    {__LINE__, "RFC 1870 §6 SIZE 20 digits", "SIZE=99999999999999999999", true, errc::ok},
    {__LINE__, "RFC 1870 §6 SIZE 21 digits", "SIZE=999999999999999999999", true, errc::param_size, 5},
    {__LINE__, "RFC 1870 §6 SIZE not digits", "SIZE=12k", true, errc::param_size, 5},
    {__LINE__, "RFC 1870 §6 SIZE without value", "SIZE", true, errc::param_value_missing, 4},
    {__LINE__, "RFC 6152 §2 BODY=8BITMIME", "BODY=8BITMIME", true, errc::ok},
    {__LINE__, "RFC 6152 §2 BODY=7BIT", "BODY=7bit", true, errc::ok},
    {__LINE__, "RFC 3030 §3 BODY=BINARYMIME", "BODY=BINARYMIME", true, errc::ok},
    {__LINE__, "RFC 6152 §2 BODY=8BIT", "BODY=8BIT", true, errc::param_body, 5},
    {__LINE__, "RFC 6531 §3.4 SMTPUTF8", "SMTPUTF8", true, errc::ok},
    {__LINE__, "RFC 6531 §3.4 SMTPUTF8 takes no value", "SMTPUTF8=yes", true, errc::param_value_unexpected, 8},
    {__LINE__, "RFC 6531 §3.3 UTF-8 value", "ENVID=\xc3\xa9", true, errc::param_envid, 6, true},
    {__LINE__, "RFC 6531 §3.3 UTF-8 value without SMTPUTF8", "XA=\xc3\xa9", true, errc::eight_bit, 3},
    {__LINE__, "RFC 3461 §4.3 RET=FULL", "RET=FULL", true, errc::ok},
    {__LINE__, "RFC 3461 §4.3 RET=ALL", "RET=ALL", true, errc::param_ret, 4},
    {__LINE__, "RFC 3461 §4.4 ENVID xtext", "ENVID=QQ+2B314159", true, errc::ok},
    {__LINE__, "RFC 3461 §4 xtext lower-case hex", "ENVID=QQ+2b", true, errc::param_envid, 6},
    {__LINE__, "RFC 3461 §4 xtext short hex", "ENVID=QQ+2", true, errc::param_envid, 6},
    {__LINE__, "RFC 3461 §4.4 ENVID of 100", "ENVID=" + std::string(100, 'a'), true, errc::ok},
    {__LINE__, "RFC 3461 §4.4 ENVID of 101", "ENVID=" + std::string(101, 'a'), true, errc::param_envid, 6},
    {__LINE__, "RFC 3461 §4.1 NOTIFY=NEVER", "NOTIFY=NEVER", false, errc::ok},
    {__LINE__, "RFC 3461 §4.1 NOTIFY list", "NOTIFY=SUCCESS,FAILURE,DELAY", false, errc::ok},
    {__LINE__, "RFC 3461 §4.1 NOTIFY NEVER in a list", "NOTIFY=NEVER,DELAY", false, errc::param_notify, 7},
    {__LINE__, "RFC 3461 §4.1 NOTIFY repeated", "NOTIFY=DELAY,DELAY", false, errc::param_notify, 7},
    {__LINE__, "RFC 3461 §4.1 NOTIFY empty item", "NOTIFY=SUCCESS,", false, errc::param_notify, 7},
    {__LINE__, "RFC 3461 §4.2 ORCPT", "ORCPT=rfc822;a+40example.test", false, errc::ok},
    {__LINE__, "RFC 3461 §4.2 ORCPT without type", "ORCPT=a@example.test", false, errc::param_orcpt, 6},
    {__LINE__, "RFC 3461 §4.2 ORCPT empty address", "ORCPT=rfc822;", false, errc::param_orcpt, 6},
    {__LINE__, "RFC 4954 §5 AUTH=<>", "AUTH=<>", true, errc::ok},
    {__LINE__, "RFC 4954 §5 AUTH=xtext", "AUTH=e+3Dmc2@example.com", true, errc::ok},
    {__LINE__, "RFC 6710 MT-PRIORITY", "MT-PRIORITY=-4", true, errc::ok},
    {__LINE__, "RFC 6710 §7 MT-PRIORITY 9", "MT-PRIORITY=9", true, errc::ok},
    {__LINE__, "RFC 6710 §7 MT-PRIORITY 0", "MT-PRIORITY=0", true, errc::ok},
    {__LINE__, "RFC 6710 §7 MT-PRIORITY +9", "MT-PRIORITY=+9", true, errc::param_mt_priority, 12},
    {__LINE__, "RFC 6710 §7 MT-PRIORITY -0", "MT-PRIORITY=-0", true, errc::param_mt_priority, 12},
    {__LINE__, "RFC 6710 §7 MT-PRIORITY 03", "MT-PRIORITY=03", true, errc::param_mt_priority, 12},
    {__LINE__, "RFC 6710 MT-PRIORITY 10", "MT-PRIORITY=10", true, errc::param_mt_priority, 12},
    {__LINE__, "RFC 8689 REQUIRETLS", "REQUIRETLS", true, errc::ok},
    {__LINE__, "RFC 3461 ORCPT on MAIL", "ORCPT=rfc822;a", true, errc::param_misplaced, 0},
};

class param_table : public ::testing::TestWithParam<param_case> {};

TEST_P(param_table, parses_with_the_named_rule) {
  const auto& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (" << c.rfc << ")");
  parse_options opts;
  opts.smtputf8 = c.utf8;
  mail_params mp;
  diagnostic d = parse_params(c.input, c.mail, opts, mp);
  EXPECT_EQ(d.rule(), rule_id(c.expect)) << "input: " << c.input;
  if (c.offset >= 0 && !d.ok()) EXPECT_EQ(d.offset, static_cast<std::uint32_t>(c.offset));
}

INSTANTIATE_TEST_SUITE_P(extensions, param_table, ::testing::ValuesIn(cases));

TEST(params, typed_values) {
  mail_params mp;
  ASSERT_TRUE(
      parse_params("SIZE=1048576 BODY=BINARYMIME RET=HDRS ENVID=X+2BY AUTH=<> MT-PRIORITY=3 SMTPUTF8 REQUIRETLS", true,
                   {}, mp)
          .ok());
  EXPECT_EQ(mp.size, 1048576u);
  EXPECT_EQ(mp.body, body_type::binary_mime);
  EXPECT_EQ(mp.ret, dsn_ret::hdrs);
  EXPECT_EQ(mp.envid, "X+2BY");
  EXPECT_EQ(mp.auth, "<>");
  EXPECT_EQ(mp.mt_priority, 3);
  EXPECT_TRUE(mp.has(param_id::smtputf8));
  EXPECT_TRUE(mp.has(param_id::requiretls));
  ASSERT_TRUE(parse_params("NOTIFY=FAILURE,DELAY ORCPT=rfc822;x+2By@example.test", false, {}, mp).ok());
  EXPECT_EQ(mp.notify, notify_failure | notify_delay);
  EXPECT_EQ(mp.orcpt_type, "rfc822");
  std::string decoded;
  ASSERT_TRUE(xtext_decode(mp.orcpt, decoded));
  EXPECT_EQ(decoded, "x+y@example.test");
}

TEST(params, xtext_round_trip) {
  for (const std::string& s : std::vector<std::string>{"plain", "a+b=c", std::string("\x01\xff space", 8)}) {
    std::string back;
    ASSERT_TRUE(xtext_decode(xtext_encode(s), back));
    EXPECT_EQ(back, s);
  }
}

TEST(params, iteration_is_zero_copy) {
  const std::string text = "SIZE=1 XA XB=2";
  param_list list(text);
  std::vector<std::string_view> kw;
  for (const auto& p : list) {
    kw.push_back(p.keyword);
    EXPECT_GE(p.keyword.data(), text.data());
  }
  EXPECT_EQ(kw, (std::vector<std::string_view>{"SIZE", "XA", "XB"}));
}

}  // namespace
}  // namespace smtpkit
