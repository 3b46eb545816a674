// reply_match.hpp — internals of the client driver shared with its tests:
// how expectation records group into replies, how a received reply is
// compared with them, and how the @smuggle probe's replies are classified.
// (RFC 5321 §4.2.1 multi-line replies; §4.1.1.4 end of mail data.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/mock/client/driver.hpp"

namespace smtpkit::mock::detail {

/// A reply as received: its lines without line ends, and its code (0 when
/// the last line does not start with a reply code).
struct received_reply {
  std::vector<std::string> lines;
  std::uint16_t code = 0;
};

/// The reply code and whether the line continues its reply ("250-").
struct line_shape {
  std::uint16_t code = 0;
  bool continues = false;
};
line_shape shape_of(std::string_view line) noexcept;

/// True when an expectation stands for one continuation line of a reply:
/// an exact line "NNN-..." or a pattern whose text begins "NNN-".
bool continuation(const step& s);

/// Steps [first, end) that one reply answers: consecutive expect_line
/// steps up to and including the first that is not a continuation.
std::size_t group_end(const std::vector<step>& steps, std::size_t first);

/// Compares a reply with the group [first, end); patterns append captures.
bool matches(const std::vector<step>& steps, std::size_t first, std::size_t end, const received_reply& r,
             reply_compare mode, captures& values);

/// How the group reads in a report ("S~ 250 {*}", "reply 250", ...).
std::string describe_expected(const std::vector<step>& steps, std::size_t first, std::size_t end, reply_compare mode);
std::string describe_received(const received_reply& r);
/// The group's lines as written (escaped, "\n"-joined; a pattern as its text).
std::string describe_recorded(const std::vector<step>& steps, std::size_t first, std::size_t end);

/// The outcome of @smuggle from the codes of the replies that followed
/// the data, up to (not including) the reply to QUIT; `closed`: the
/// server closed the connection before its first reply.
eod_outcome classify_eod(const std::vector<std::uint16_t>& codes, bool closed) noexcept;

/// The mail data @smuggle sends for a variant.
std::string smuggle_data(std::string_view variant);

/// A @requires entry ("KEYWORD", "KEYWORD:PARAM", "!KEYWORD") against an
/// EHLO response (its lines CRLF-joined), read by the grammar.
bool requirement_met(std::string_view req, std::string_view ehlo_reply);

}  // namespace smtpkit::mock::detail
