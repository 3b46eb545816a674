// smtpkit/reply.hpp — SMTP replies (RFC 5321 §4.2, §4.2.1), the greeting
// (§4.2), the EHLO response (§4.1.1.1) and enhanced status codes
// (RFC 3463 §2, RFC 2034 §4).
//
// Single lines parse without allocating; a multi-line reply is validated in
// one call (parse_reply) or line by line as it arrives (reply_assembler).
// The EHLO response parser keeps going after a bad keyword so the caller
// still learns which extensions were advertised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtpkit/error.hpp"
#include "smtpkit/line.hpp"
#include "smtpkit/options.hpp"
#include "smtpkit/path.hpp"

namespace smtpkit {

/// Reply-code [ SP textstring ] / Reply-code "-" [ textstring ]
struct reply_line {
  std::uint16_t code = 0;
  char separator = 0;     ///< ' ', '-', or 0 when the code stands alone
  std::string_view text;  ///< after the separator
  [[nodiscard]] bool continues() const noexcept { return separator == '-'; }
};

/// One reply line without its CRLF.
[[nodiscard]] parse_result<reply_line> parse_reply_line(std::string_view line, parse_options opts = {}) noexcept;

/// RFC 3463 §2: status-code = class "." subject "." detail
struct enhanced_status {
  bool present = false;
  std::uint8_t cls = 0;
  std::uint16_t subject = 0;
  std::uint16_t detail = 0;
  std::string_view code;  ///< as written, e.g. "2.1.0"
};
/// Look for an enhanced status code at the start of a reply line's text.
/// Text that begins with a digit and "." must be a well-formed code.
[[nodiscard]] parse_result<enhanced_status> parse_enhanced_status(std::string_view text) noexcept;

/// A complete reply: one or more lines separated by CRLF (the last CRLF is
/// optional).
struct reply {
  std::uint16_t code = 0;
  std::size_t lines = 0;
  std::string_view raw;         ///< the whole input
  std::string_view first_text;  ///< text of the first line
  std::string_view last_text;   ///< text of the last line
};
[[nodiscard]] parse_result<reply> parse_reply(std::string_view text, parse_options opts = {}) noexcept;

/// Iterate over the lines of a reply text (split on CRLF).
class reply_lines {
 public:
  explicit reply_lines(std::string_view raw) noexcept : raw_(raw) {}
  /// Next line (without CRLF); false at the end.
  bool next(std::string_view& line) noexcept;

 private:
  std::string_view raw_;
  std::size_t pos_ = 0;
};

/// Validates a reply as its lines arrive from a line_framer.
class reply_assembler {
 public:
  struct step {
    diagnostic diag;  ///< problem with this line (offset within the line)
    reply_line line;
    bool complete = false;  ///< this line ended the reply
  };
  [[nodiscard]] step feed(std::string_view line, line_ending ending, parse_options opts = {}) noexcept;
  [[nodiscard]] std::uint16_t code() const noexcept { return code_; }
  [[nodiscard]] std::size_t lines() const noexcept { return lines_; }
  [[nodiscard]] bool in_progress() const noexcept { return lines_ > 0; }
  void reset() noexcept {
    code_ = 0;
    lines_ = 0;
  }

 private:
  std::uint16_t code_ = 0;
  std::size_t lines_ = 0;
};

/// §4.2: Greeting — a 220 reply whose first line starts with the server's
/// Domain or address literal; any other code is an ordinary Reply-line.
struct greeting {
  reply rep;
  host server;  ///< empty unless code == 220
};
[[nodiscard]] parse_result<greeting> parse_greeting(std::string_view text, parse_options opts = {}) noexcept;

/// Service extensions the grammar gives meaning to (keywords of EHLO lines).
enum class extension : std::uint8_t {
  pipelining,
  size,
  eightbitmime,
  smtputf8,
  starttls,
  auth,
  dsn,
  enhancedstatuscodes,
  chunking,
  binarymime,
  requiretls,
  mt_priority,
  deliverby,
  etrn,
  atrn,
  burl,
  help,
  vrfy,
  expn,
  no_soliciting,
  future_release,
  limits,
  count_
};
std::string_view to_string(extension e) noexcept;
/// extension::count_ when the keyword is not one of the above.
extension extension_from_keyword(std::string_view keyword) noexcept;

/// §4.1.1.1: ehlo-ok-rsp
struct ehlo_info {
  std::string_view domain;  ///< first line's Domain (or address literal, leniently)
  std::string_view greet;   ///< first line's ehlo-greet
  std::uint32_t extensions = 0;
  std::uint64_t size_limit = 0;      ///< SIZE parameter; 0 when absent or no limit
  bool size_declared = false;        ///< SIZE carried a number
  std::string_view auth_mechanisms;  ///< parameters of the AUTH line
  std::size_t keywords = 0;
  std::string_view raw;

  [[nodiscard]] bool has(extension e) const noexcept { return (extensions >> static_cast<unsigned>(e)) & 1u; }
};
/// A line whose text breaks the grammar (errc::reply_text, e.g. "250 " with
/// nothing after the SP) is reported in `diag`, and the keywords of the
/// other lines are still in `value`: what a client reads from it.
[[nodiscard]] parse_result<ehlo_info> parse_ehlo_reply(std::string_view text, parse_options opts = {}) noexcept;

/// ehlo-line = ehlo-keyword *( SP ehlo-param ), for lines after the first.
struct ehlo_keyword {
  std::string_view keyword;
  std::string_view params;  ///< everything after the keyword's SP

  /// The line advertises `name` (case-insensitive), also in the obsolete
  /// "NAME=PARAMS" form that servers send beside "AUTH PLAIN" for clients
  /// older than RFC 2554 (parse_ehlo_reply still reports such a line as
  /// ehlo-reply.keyword).
  [[nodiscard]] bool names(std::string_view name) const noexcept;
  /// One of the line's parameters (SP-separated, after the keyword or its
  /// obsolete "=") is `param`, case-insensitively.
  [[nodiscard]] bool lists(std::string_view param) const noexcept;
};
/// Iterate over the keyword lines of an EHLO response.
class ehlo_keywords {
 public:
  explicit ehlo_keywords(std::string_view raw) noexcept : lines_(raw) {
    std::string_view first;
    lines_.next(first);
  }
  bool next(ehlo_keyword& out) noexcept;

 private:
  reply_lines lines_;
};

}  // namespace smtpkit
