// smtpkit/mock/server/script_factory.hpp — scripts in the mock server (`smtpkit serve
// --script`, docs/dialogue-format.md): each session plays the scripts'
// rules and its dialogue over the reference ESMTP server (RFC 5321 §4.3.2).
// Limits: rule counters are shared by the sessions of one server, which
// runs on one thread; the factory must not be used by two servers at once.
#pragma once

#include <memory>
#include <vector>

#include "smtpkit/mock/script/script.hpp"
#include "smtpkit/mock/server/server.hpp"

namespace smtpkit::mock {

/// The behaviour factory for `server`: rules first, then the session's
/// dialogue, then the reference server. Scripts must be loaded with
/// side::server (the server's records are sent, the client's expected).
server::behaviour_factory script_factory(std::vector<script> scripts);

/// A factory that asks `*current` for each new session, so the scripts can
/// be replaced while the server runs (on its thread) by assigning to it.
/// While `*current` is empty, sessions get the reference server alone.
server::behaviour_factory switchable_factory(std::shared_ptr<server::behaviour_factory> current);

}  // namespace smtpkit::mock
