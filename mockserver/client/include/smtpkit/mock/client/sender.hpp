// smtpkit/mock/client/sender.hpp — hands one message to a server, the way
// an MTA's client does (RFC 5321 §3.3, §4.1.1; one transaction per
// connection): greeting, EHLO (HELO when EHLO is refused), STARTTLS when
// asked for, AUTH PLAIN when given credentials (RFC 4954), MAIL with the
// envelope's parameters, one RCPT per recipient, then DATA with
// dot-stuffing (§4.5.2) or one BDAT LAST chunk (RFC 3030), and QUIT.
//
// The serve relay (--route) forwards with it and `probe relay` submits its
// test messages with it. A caller decides the parameters once it has seen
// the server's EHLO response (the `adapt` callback): SIZE only to a server
// that declares SIZE, BODY=8BITMIME only to one that offers 8BITMIME, or no
// transaction at all (a permanent refusal of its own).
//
// Limits: no pipelining (one command, one reply); one connection per call;
// every wait is bounded by the step timeout and the session timeout (and a
// wait for a reply by `cancelled`); the
// transcript keeps at most 8 MiB; a reply line longer than 64 KiB ends the
// session as an error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "smtpkit/mock/client/driver.hpp"
#include "smtpkit/reply.hpp"

namespace smtpkit::mock {

struct outgoing_recipient {
  std::string address;              ///< without angle brackets
  std::vector<std::string> params;  ///< "NOTIFY=FAILURE", "ORCPT=rfc822;a@b" ...
};

struct outgoing_message {
  std::string reverse_path;         ///< without angle brackets; "" is the null path <>
  std::vector<std::string> params;  ///< MAIL parameters: "BODY=8BITMIME", "SIZE=1234" ...
  std::vector<outgoing_recipient> recipients;
  std::string content;  ///< the message (header and body), not dot-stuffed
  /// Send `content` as it is and then ".\r\n" (no dot-stuffing, no line
  /// ends added): a probe's own octets, bare LFs and all.
  bool raw = false;
  /// Send with BDAT in one chunk instead of DATA (needs CHUNKING).
  bool bdat = false;
};

struct sender_options {
  client_target target;
  std::string helo = "localhost";
  bool starttls = false;  ///< STARTTLS after EHLO, required (a server without it is an error)
  std::string user;       ///< AUTH PLAIN when not empty
  std::string password;
  std::chrono::milliseconds step_timeout{30000};
  std::chrono::milliseconds session_timeout{300000};
  /// Called with the server's EHLO response (the HELO one: empty keywords)
  /// before MAIL: may change the message's parameters, or return a reason
  /// to send nothing (the session then ends with QUIT, `refused` set).
  std::function<std::optional<std::string>(const ehlo_info&, outgoing_message&)> adapt;
  /// Asked while waiting for a reply (every 200 ms): true ends the session
  /// as an error at once. A write to a stalled peer still waits its step.
  std::function<bool()> cancelled;
};

/// A server's reply: its code and its lines, "\n"-joined.
struct sent_reply {
  std::uint16_t code = 0;  ///< 0: no reply (connection gone, timeout)
  std::string text;
};

struct send_result {
  bool connected = false;
  std::string error;    ///< the session broke: no connection, timeout, closed, TLS failed
  std::string refused;  ///< adapt's reason to send nothing
  std::string greeting;
  bool esmtp = false;            ///< EHLO was accepted
  std::string ehlo;              ///< the EHLO response, CRLF-joined (for parse_ehlo_reply)
  std::string tls;               ///< "TLSv1.3 ..." when STARTTLS ran
  sent_reply mail;               ///< reply to MAIL (code 0 when it was never sent)
  std::vector<sent_reply> rcpt;  ///< reply to each RCPT, in order (code 0: never sent)
  sent_reply data;               ///< the final reply to the message (after 354, or to BDAT LAST)
  /// raw: replies that came after `data` without a command (within half
  /// a second): the server ended the data early and read the rest as commands.
  std::vector<sent_reply> unasked;
  std::string transcript;  ///< the session, docs/dialogue-format.md

  /// What became of recipient `i`: the first reply that decided it (MAIL,
  /// its RCPT, or the message's), or code 0 when the session broke first.
  [[nodiscard]] sent_reply outcome(std::size_t i) const;
};

/// Sends `m` (a copy: `adapt` may change it). Never throws for what the
/// server does; everything is in the result.
[[nodiscard]] send_result send_message(outgoing_message m, const sender_options& o);

/// The message as DATA sends it: every line that starts with "." gets one
/// more (RFC 5321 §4.5.2), bare CR and LF become CRLF, a last line without
/// its CRLF gets one, and the final ".\r\n" follows.
[[nodiscard]] std::string dot_stuff(std::string_view content);

}  // namespace smtpkit::mock
