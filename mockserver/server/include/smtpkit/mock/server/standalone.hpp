// smtpkit/mock/server/standalone.hpp — one session of the reference ESMTP
// server (what `smtpkit serve` does with no script: RFC 5321 §4.3.2 and the
// extensions it advertises) without a connection: client octets in,
// actions out (behaviour.hpp). For in-process fuzzing
// (examples/fuzz_inprocess) and tests that need no socket.
// Limits: no TLS (STARTTLS is neither advertised nor accepted: 502);
// messages are counted and forgotten; no events; no timeouts (no clock
// runs, so timed_out() is only what the caller makes of it).
#pragma once

#include <memory>

#include "smtpkit/mock/server/behaviour.hpp"
#include "smtpkit/mock/server/config.hpp"

namespace smtpkit::mock {

/// A reference server session that owns what it uses: a copy of `cfg`, a
/// store that discards, an event log that writes nothing.
[[nodiscard]] std::unique_ptr<behaviour> make_reference_behaviour(const server_config& cfg = {});

}  // namespace smtpkit::mock
