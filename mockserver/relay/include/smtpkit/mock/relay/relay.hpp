// smtpkit/mock/relay/relay.hpp — the mock server as a relay: mail it
// accepted for a routed domain goes on to the next hop (routes.hpp), the
// way an MTA passes mail on (RFC 5321 §2.3.10, §3.7), so a test can build a
// small network of servers (client -> A -> B -> C) and put real MTAs
// anywhere in it.
//
// What a hop does, store and forward:
//  * the message is stored first (the client's 250 means it is on disk),
//    then handed to the relay's own thread, which sends it with smtpkit's
//    client (mockserver/client/sender.hpp), one transaction per next hop;
//  * a Received line goes on top (RFC 5321 §4.4: from, by, with — ESMTP,
//    ESMTPS, ESMTPA, ESMTPSA per RFC 3848 —, id, for, and the date), nothing
//    else in the message changes; more than `max_hops` Received lines is a
//    loop (§6.3) and the mail is returned instead;
//  * the envelope travels: the reverse-path; SIZE to a hop that declares
//    SIZE (RFC 1870); BODY=8BITMIME and SMTPUTF8 as received, to hops that
//    offer them (RFC 6152, 6531) — 8-bit or UTF-8 mail for a hop without
//    them is returned (5.6.3 / 5.6.7), never sent undeclared; BODY=BINARYMIME
//    goes with BDAT to a hop offering BINARYMIME and CHUNKING (RFC 3030), or
//    is returned; RET, ENVID, NOTIFY and ORCPT to a hop that offers DSN (RFC
//    3461 §4), and to one that does not, a "relayed" notice goes back for
//    NOTIFY=SUCCESS (§6.2.3.3);
//  * 4xx (or no answer) is retried with backoff (`first_retry`, doubling up
//    to `max_retry`, `max_attempts` tries in all), 5xx is final: either way
//    a failed recipient gets a delivery status notification (RFC 3464
//    multipart/report) to the reverse-path — never for the null path, never
//    against NOTIFY=NEVER — stored here like received mail and routed like
//    any other (so it can travel back along the chain).
//
// Everything is said: a "relay" event per recipient and attempt (with the
// hop, the reply, the status), a "dsn" event per notification, a console
// line, and with --transcripts the relay's own sessions as
// RUN-relay-QID-N.smtp beside the sessions it received.
//
// Limits: the queue lives in memory: mail still queued when the server
// stops stays in the Maildir, unsent (a "relay-pending" event names it);
// no MX lookups (routes only); no 8-bit to 7-bit conversion (returned
// instead, which RFC 6152 §3 allows); one delivery at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "smtpkit/mock/relay/routes.hpp"

namespace smtpkit::mock {
class server;
}

namespace smtpkit::mock::relay {

struct relay_options {
  route_table routes;
  int max_attempts = 5;
  std::chrono::milliseconds first_retry{1000};
  std::chrono::milliseconds max_retry{60000};
  std::size_t max_hops = 100;                ///< Received lines above which a message is a loop (RFC 5321 §6.3)
  std::chrono::milliseconds timeout{30000};  ///< per reply from a next hop
};

class relay_agent {
 public:
  /// Watches `srv` (before srv.run()); stops with it.
  relay_agent(server& srv, relay_options o);
  ~relay_agent();
  relay_agent(const relay_agent&) = delete;
  relay_agent& operator=(const relay_agent&) = delete;

  struct state;

 private:
  std::shared_ptr<state> s_;
};

}  // namespace smtpkit::mock::relay
