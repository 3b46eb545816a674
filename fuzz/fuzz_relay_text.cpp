// fuzz/fuzz_relay_text.cpp — libFuzzer target for the text the serve relay
// reads and writes (mockserver/relay/src/message_text.hpp, routes.hpp): a
// --route spec, the Received line made from a client's EHLO name and
// peer, the Received count of a message, the status read from a reply,
// and a delivery status notification built from peer-controlled text.
//
// The input is split at its first two NUL octets into a route spec, a
// peer-controlled field (EHLO name, reply, address, ENVID, ORCPT) and a
// message. Invariants: a Received line is one header field (lines end with
// CRLF, continuation lines start with a tab, no control octets inside);
// status_of gives class.subject.detail with the class 2, 4 or 5; a
// notification to an ASCII address is 7-bit, every line ends with CRLF and
// it holds no NUL (RFC 3464 text a 7-bit hop can carry).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "message_text.hpp"
#include "smtpkit/mock/relay/routes.hpp"

namespace {

void check_lines(std::string_view s, bool seven_bit) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    SMTPKIT_FUZZ_CHECK(c != 0);
    if (seven_bit) SMTPKIT_FUZZ_CHECK(c < 0x80);
    if (c == '\r') SMTPKIT_FUZZ_CHECK(i + 1 < s.size() && s[i + 1] == '\n');
    if (c == '\n') SMTPKIT_FUZZ_CHECK(i > 0 && s[i - 1] == '\r');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtpkit::mock::relay;
  const smtpkit::fuzz::owned_input owned(data, size);
  std::string_view in = owned.view();
  const auto a = in.find('\0');
  const std::string_view spec = in.substr(0, a);
  const std::string_view rest = a == std::string_view::npos ? std::string_view{} : in.substr(a + 1);
  const auto b = rest.find('\0');
  const std::string field(rest.substr(0, b));
  const std::string_view message = b == std::string_view::npos ? std::string_view{} : rest.substr(b + 1);

  route_table t;
  std::string why;
  if (t.add(spec, why)) {
    (void)t.find(field);
    (void)t.find("user@" + field);
  } else {
    SMTPKIT_FUZZ_CHECK(!why.empty());
  }

  nlohmann::ordered_json env{{"helo", field}, {"peer", field}, {"esmtp", true}, {"tls", false}, {"auth", nullptr}};
  const std::string line = received_line(env, "relay.test", "Q1", field, std::chrono::system_clock::from_time_t(0));
  check_lines(line, false);
  SMTPKIT_FUZZ_CHECK(line.size() >= 2 && line.compare(line.size() - 2, 2, "\r\n") == 0);
  for (std::size_t i = 0; i + 2 < line.size(); ++i)
    if (line[i] == '\n') SMTPKIT_FUZZ_CHECK(line[i + 1] == '\t');
  for (char c : line)
    SMTPKIT_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\r' || c == '\n' || c == '\t');

  (void)count_received(message);

  const std::string status = status_of(550, field);
  SMTPKIT_FUZZ_CHECK(status.size() >= 5 && (status[0] == '2' || status[0] == '4' || status[0] == '5') &&
                     status[1] == '.');

  dsn_input d;
  d.reporting_mta = "relay.test";
  d.id = "Q1.1";
  d.to = "sender@example.test";
  d.envid = field;
  d.full = !field.empty() && field[0] == 'F';
  d.original = std::string(message);
  d.recipients.push_back({field, field, 550, field, "127.0.0.1:25"});
  const std::string dsn = build_dsn(d, std::chrono::system_clock::from_time_t(0));
  check_lines(dsn, true);
  return 0;
}
