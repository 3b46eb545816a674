// data_test.cpp — DATA decoding (RFC 5321 §4.1.1.4, §4.5.2, §4.5.3.1.6)
// and BDAT chunks (RFC 3030 §2). Each case runs in one piece, split in two
// at every byte, and byte by byte: content, anomalies and the end must agree.
#include "smtpkit/data.hpp"

#include <gtest/gtest.h>

#include <string>
#include <set>
#include <vector>

namespace smtpkit {
namespace {

using namespace std::string_literals;

struct collect {
  std::string content;
  std::vector<std::pair<data_anomaly, std::uint64_t>> anomalies;
  void body(std::string_view s) { content.append(s); }
  void anomaly(data_anomaly a, std::uint64_t at) { anomalies.emplace_back(a, at); }
};

struct outcome {
  std::string content;
  std::vector<std::pair<data_anomaly, std::uint64_t>> anomalies;
  bool done = false;
  std::size_t consumed = 0;  // total octets of the stream used
  bool operator==(const outcome&) const = default;
};

outcome run(const std::vector<std::string_view>& pieces, std::uint32_t accept) {
  data_decoder d(accept);
  collect c;
  outcome o;
  for (auto p : pieces) {
    if (o.done) break;
    auto r = d.feed(p, c);
    o.consumed += r.consumed;
    o.done = r.done;
  }
  o.content = c.content;
  o.anomalies = c.anomalies;
  return o;
}

using A = data_anomaly;
struct data_case {
  int line;
  const char* rfc;
  std::string input;
  std::string content;
  std::vector<A> anomalies;
  bool done;
  std::size_t consumed;  // when done
  std::uint32_t accept = 0;
};

const data_case cases[] = {
    {__LINE__, "§4.1.1.4 end of data", "Hello\r\n.\r\n", "Hello\r\n", {}, true, 10},
    {__LINE__, "§4.1.1.4 empty message", ".\r\n", "", {}, true, 3},
    {__LINE__, "§4.1.1.4 trailing bytes are not data", "a\r\n.\r\nQUIT\r\n", "a\r\n", {}, true, 6},
    {__LINE__, "§4.5.2 stuffed dot removed", "..hidden\r\n.\r\n", ".hidden\r\n", {}, true, 13},
    {__LINE__, "§4.5.2 dot line of two", "..\r\n.\r\n", ".\r\n", {}, true, 7},
    {__LINE__, "§4.5.2 dot inside a line kept", "a.b\r\n.\r\n", "a.b\r\n", {}, true, 8},
    {__LINE__, "§4.1.1.4 no end yet", "Hello\r\n", "Hello\r\n", {}, false, 0},
    {__LINE__, "§2.3.8 bare LF", "a\nb\r\n.\r\n", "a\nb\r\n", {A::bare_lf}, true, 8},
    {__LINE__, "§2.3.8 bare CR", "a\rb\r\n.\r\n", "a\rb\r\n", {A::bare_cr}, true, 8},
    {__LINE__, "§4.5.2 NUL", "a\0b\r\n.\r\n"s, "a\0b\r\n"s, {A::nul}, true, 8},
    {__LINE__, "RFC 6152 8-bit", "caf\xc3\xa9\r\n.\r\n", "caf\xc3\xa9\r\n", {A::eight_bit}, true, 10},
    {__LINE__,
     "§4.5.3.1.6 line of 1000",
     std::string(998, 'x') + "\r\n.\r\n",
     std::string(998, 'x') + "\r\n",
     {},
     true,
     1003},
    {__LINE__,
     "§4.5.3.1.6 line of 1001",
     std::string(999, 'x') + "\r\n.\r\n",
     std::string(999, 'x') + "\r\n",
     {A::line_too_long},
     true,
     1004},
    {__LINE__,
     "§4.5.3.1.6 line of 1202",
     std::string(1200, 'x') + "\r\n.\r\n",
     std::string(1200, 'x') + "\r\n",
     {A::line_too_long},
     true,
     1205},
    // SMTP smuggling variants: content, never the end (strict).
    {__LINE__,
     "smuggling <LF>.<LF>",
     "a\n.\nb\r\n.\r\n",
     "a\n.\nb\r\n",
     {A::bare_lf, A::lf_dot_lf, A::bare_lf},
     true,
     10},
    {__LINE__,
     "smuggling <LF>.<CR><LF>",
     "a\n.\r\nb\r\n.\r\n",
     "a\n.\r\nb\r\n",
     {A::bare_lf, A::lf_dot_crlf},
     true,
     11},
    {__LINE__,
     "smuggling <LF>.<CR>",
     "a\n.\rb\r\n.\r\n",
     "a\n.\rb\r\n",
     {A::bare_lf, A::lf_dot_cr, A::bare_cr},
     true,
     10},
    {__LINE__, "smuggling <CR><LF>.<LF>", "a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n", {A::crlf_dot_lf, A::bare_lf}, true, 11},
    {__LINE__, "smuggling <CR><LF>.<CR>", "a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", {A::crlf_dot_cr, A::bare_cr}, true, 11},
    {__LINE__,
     "smuggling <CR>.<CR>",
     "a\r.\rb\r\n.\r\n",
     "a\r.\rb\r\n",
     {A::bare_cr, A::cr_dot_cr, A::bare_cr},
     true,
     10},
    {__LINE__,
     "smuggling <CR>.<LF>",
     "a\r.\nb\r\n.\r\n",
     "a\r.\nb\r\n",
     {A::bare_cr, A::cr_dot_lf, A::bare_lf},
     true,
     10},
    {__LINE__,
     "smuggling <CR>.<CR><LF>",
     "a\r.\r\nb\r\n.\r\n",
     "a\r.\r\nb\r\n",
     {A::bare_cr, A::cr_dot_crlf},
     true,
     11},
    {__LINE__,
     "smuggling <CR><LF><NUL>.<CR><LF>",
     "a\r\n\0.\r\nb\r\n.\r\n"s,
     "a\r\n\0.\r\nb\r\n"s,
     {A::nul, A::nul_dot},
     true,
     13},
    {__LINE__, "smuggling NUL line that is not a dot", "a\r\n\0x\r\n.\r\n"s, "a\r\n\0x\r\n"s, {A::nul}, true, 10},
    // A receiver emulating a vulnerable server: the variant ends the data.
    {__LINE__, "accept <LF>.<LF>", "a\n.\nMAIL", "a\n", {A::bare_lf, A::lf_dot_lf}, true, 4, anomaly_bit(A::lf_dot_lf)},
    {__LINE__, "accept <CR><LF>.<LF>", "a\r\n.\nX", "a\r\n", {A::crlf_dot_lf}, true, 5, anomaly_bit(A::crlf_dot_lf)},
    {__LINE__, "accept <CR>.<CR>", "a\r.\rX", "a\r", {A::bare_cr, A::cr_dot_cr}, true, 4, anomaly_bit(A::cr_dot_cr)},
    {__LINE__, "accept NUL dot", "a\r\n\0.\r\nX"s, "a\r\n", {A::nul, A::nul_dot}, true, 7, anomaly_bit(A::nul_dot)},
};

class data_table : public ::testing::TestWithParam<data_case> {};

TEST_P(data_table, decodes_the_same_in_any_pieces) {
  const auto& c = GetParam();
  SCOPED_TRACE(testing::Message() << __FILE__ << ":" << c.line << " (RFC 5321 " << c.rfc << ")");
  outcome whole = run({c.input}, c.accept);
  EXPECT_EQ(whole.content, c.content);
  std::vector<A> kinds;
  for (auto& [a, at] : whole.anomalies) kinds.push_back(a);
  EXPECT_EQ(kinds, c.anomalies);
  EXPECT_EQ(whole.done, c.done);
  if (c.done) EXPECT_EQ(whole.consumed, c.consumed);
  for (std::size_t k = 0; k <= c.input.size(); ++k) {
    std::string_view in(c.input);
    EXPECT_EQ(run({in.substr(0, k), in.substr(k)}, c.accept), whole) << "split at " << k;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t k = 0; k < c.input.size(); ++k) bytes.push_back(std::string_view(c.input).substr(k, 1));
  EXPECT_EQ(run(bytes, c.accept), whole) << "byte by byte";
}

INSTANTIATE_TEST_SUITE_P(rfc5321, data_table, ::testing::ValuesIn(cases));

TEST(data_decoder, offsets_are_stream_positions) {
  auto o = run({"ab\n", "c\r.\r\n.\r\n"}, 0);
  ASSERT_EQ(o.anomalies.size(), 3u);
  EXPECT_EQ(o.anomalies[0], std::make_pair(A::bare_lf, std::uint64_t{2}));
  EXPECT_EQ(o.anomalies[1], std::make_pair(A::bare_cr, std::uint64_t{4}));
  EXPECT_EQ(o.anomalies[2].first, A::cr_dot_crlf);
  // §4.5.3.1.6: an over-long line is reported at its 999th octet, wherever the pieces end.
  const std::string long_line = "ab\r\n" + std::string(1200, 'x') + "\r\n.\r\n";
  auto l = run({std::string_view(long_line).substr(0, 1100), std::string_view(long_line).substr(1100)}, 0);
  ASSERT_EQ(l.anomalies.size(), 1u);
  EXPECT_EQ(l.anomalies[0], std::make_pair(A::line_too_long, std::uint64_t{4 + 998}));
}

TEST(data_decoder, large_body_in_odd_pieces) {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += (i % 7 == 0 ? "." : "") + std::string("line ") + std::to_string(i) + "\r\n";
  std::string wire;
  std::string expect;
  // dot-stuff like a client would (§4.5.2)
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t nl = body.find("\r\n", pos) + 2;
    std::string line = body.substr(pos, nl - pos);
    if (line[0] == '.') wire += ".";
    wire += line;
    pos = nl;
  }
  wire += ".\r\n";
  for (std::size_t step : {1u, 7u, 4096u, 65536u}) {
    std::vector<std::string_view> pieces;
    for (std::size_t i = 0; i < wire.size(); i += step) pieces.push_back(std::string_view(wire).substr(i, step));
    auto o = run(pieces, 0);
    EXPECT_TRUE(o.done);
    EXPECT_EQ(o.consumed, wire.size());
    EXPECT_EQ(o.content, body) << "step " << step;
    EXPECT_TRUE(o.anomalies.empty());
  }
}

TEST(bdat_reader, takes_exactly_the_chunk) {
  bdat_reader r;
  r.start(5);
  EXPECT_EQ(r.take("abc"), "abc");
  EXPECT_EQ(r.take("defgh"), "de");
  EXPECT_TRUE(r.done());
  r.start(0);
  EXPECT_EQ(r.take("x"), "");
  EXPECT_TRUE(r.done());
}

TEST(data_anomaly, rule_ids_are_distinct) {
  std::set<std::string_view> ids;
  for (int i = 0; i < static_cast<int>(A::count_); ++i) ids.insert(rule_id(static_cast<A>(i)));
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(A::count_));
}

}  // namespace
}  // namespace smtpkit
