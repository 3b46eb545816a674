// smtpkit/mock/script/message_match.hpp — what a served script compares in
// a message (docs/dialogue-format.md, "Mail data"): the mail data a client
// sent, as it crossed the wire (dot-stuffed), against the script's records
// between the 354 and the final ".".
//
// By default, what clients generate afresh for every message is not
// compared: the header fields of generated_fields() and any the script
// adds (@data-ignore), in the message's header and in the headers of its
// MIME parts (RFC 5322 §3.6; RFC 2045 §7 Content-ID), and the multipart
// boundaries (RFC 2046 §5.1.1), which are matched to each other in the
// order the message declares them. Everything else is compared line by
// line, exactly, line ends included; a C~ record matches one CRLF line.
// What differed only in those parts is reported as `varied`, not as a
// difference. Strict (--strict-data, @strict-data): every line compared,
// octet for octet (C~ records still match as patterns).
//
// Limits: a field is recognised by its name only in a header section
// (the message's, or a part's after a delimiter line); a part whose
// boundary the script writes as a pattern is found by a C~ record that
// starts with "--".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/mock/script/pattern.hpp"

namespace smtpkit::mock {

/// One record of the expected message.
struct expected_record {
  std::string bytes;             ///< an exact record's octets: C: with its CRLF, C= as written
  const pattern* pat = nullptr;  ///< or a C~ record (one CRLF line)
  std::size_t line = 0;          ///< in the script
};

struct message_rules {
  bool strict = false;              ///< compare every line octet for octet
  std::vector<std::string> ignore;  ///< header fields not compared, besides generated_fields()
};

/// Header fields clients write afresh into every message (names as RFC 5322
/// and the clients spell them; compared without regard to case).
[[nodiscard]] const std::vector<std::string_view>& generated_fields();

struct message_verdict {
  bool same = true;
  /// What differed but is not compared: field names, "MIME boundary".
  std::vector<std::string> varied;
  // The first difference, when !same:
  std::size_t line = 0;           ///< the script line of the record expected (0: the recorded message had ended)
  std::size_t received_line = 0;  ///< the message's line (1-based; 0: the message had ended)
  std::string expected;           ///< the record ("C: Subject: x", "C~ ...") or "(the end of the message)"
  std::string received;           ///< the line received, escaped, or "(the end of the message)"
  std::string excerpt;            ///< the line received without its line end, escaped ("" at the end)
};

/// `received`: the wire octets of the message without the final ".\r\n";
/// `complete`: false when they are only the first part of a longer message.
[[nodiscard]] message_verdict compare_message(const std::vector<expected_record>& expected, std::string_view received,
                                              bool complete, const message_rules& rules);

}  // namespace smtpkit::mock
