// message_text.hpp — the text a relay writes into mail: its Received line
// (RFC 5321 §4.4, RFC 3848 protocol names), delivery status notifications
// (RFC 3464, RFC 3461), and the few things it reads from a message (its
// Received lines for loop detection, RFC 5321 §6.3; 8-bit octets, RFC 6152).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace smtpkit::mock::relay {

/// "Mon, 07 Dec 2026 10:15:00 +0000" (RFC 5322 §3.3, UTC).
std::string rfc5322_date(std::chrono::system_clock::time_point t);

/// The Received field this hop adds (with its CRLF), from the envelope the
/// server stored: "from" the client's EHLO/HELO name and its address,
/// "by" us, "with" ESMTP/ESMTPS/ESMTPA/ESMTPSA (or SMTP, or the UTF8SMTP
/// forms of RFC 6531 §4.3), "id", "for" when there is one recipient.
std::string received_line(const nlohmann::ordered_json& envelope, const std::string& by, const std::string& id,
                          const std::string& for_rcpt, std::chrono::system_clock::time_point when);

/// The header section, without the empty line that ends it (RFC 5322
/// §2.1; the line may end with CRLF or a bare LF); the whole message when
/// it has no such line.
std::string_view header_of(std::string_view message);
/// Where the body starts: just after that empty line, or the end.
std::size_t body_offset(std::string_view message);

/// Received fields in the header section (RFC 5322 §3.6.7).
std::size_t count_received(std::string_view message);

bool has_8bit(std::string_view text);

/// A reply's lines joined with spaces (for one-line fields and events).
std::string one_line(std::string_view reply);

/// NOTIFY's list (RFC 3461 §4.1) holds `what`.
bool notify_has(std::string_view notify, std::string_view what);

enum class dsn_action : std::uint8_t { failed, relayed };

struct dsn_recipient {
  std::string address;
  std::string orcpt;  ///< the ORCPT parameter as received (xtext), or ""
  std::uint16_t code = 0;
  std::string reply;       ///< the reply (or our reason) in one line
  std::string remote_mta;  ///< the hop that replied, "" when we decided
};

struct dsn_input {
  std::string reporting_mta;
  std::string id;  ///< unique: the Message-ID and boundary are made from it
  std::string to;
  std::string arrival;
  std::string envid;  ///< ENVID (xtext), or ""
  bool full = false;  ///< RET=FULL: the whole message; else its header
  dsn_action action = dsn_action::failed;
  std::string original;
  std::vector<dsn_recipient> recipients;
};

/// The notification: a multipart/report; report-type=delivery-status
/// message (RFC 3464 §2, RFC 6522) with a human part, the
/// message/delivery-status part and the returned message or header.
std::string build_dsn(const dsn_input& in, std::chrono::system_clock::time_point now);

/// "5.1.1" from a reply "550 5.1.1 ..." (RFC 3463), or one made from the
/// code's first digit ("5.0.0", "4.0.0").
std::string status_of(std::uint16_t code, std::string_view reply);

}  // namespace smtpkit::mock::relay
