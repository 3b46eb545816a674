// pop3.hpp — the mock server's Maildir over POP3 (RFC 1939: USER/PASS, STAT,
// LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT; CAPA and RESP-CODES of RFC
// 2449; STLS of RFC 2595 with the SMTP server's certificate), so a test can
// send with an application and read with a real mail client.
//
// Accounts are the server's --user NAME:PASSWORD; without --user any name
// and password log in (as AUTH does). Every account sees the one mailbox:
// all messages, as listed when it logged in (RFC 1939 §4: the maildrop is
// fixed for the session). Messages are sent with CRLF line ends and dot
// stuffing; sizes count the octets as sent, before the stuffing. DELE takes
// effect at QUIT (the UPDATE state), through the mailbox (the web view sees
// it). Limits: 32 connections, command lines of 255 octets (RFC 2449 §4),
// logout after 10 minutes idle (RFC 1939 §3), no APOP and no SASL.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mailbox.hpp"
#include "smtpkit/mock/server/server.hpp"

namespace smtpkit::mock::view {

class pop3_server {
 public:
  using on_delete = std::function<void(const std::vector<std::string>& ids)>;

  /// Binds now (throws setup_error).
  pop3_server(server& srv, mailbox& box, const listen_spec& where, on_delete deleted);
  ~pop3_server();
  pop3_server(const pop3_server&) = delete;
  pop3_server& operator=(const pop3_server&) = delete;

  [[nodiscard]] const bound_endpoint& endpoint() const;
  void start();
  void stop();

  struct impl;

 private:
  std::shared_ptr<impl> p_;
};

}  // namespace smtpkit::mock::view
