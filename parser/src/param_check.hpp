// param_check.hpp — the semantics of one esmtp-param, shared by
// parse_params (params.cpp) and the MAIL/RCPT fast path (command.cpp).
#pragma once

#include "smtpkit/error.hpp"
#include "smtpkit/params.hpp"

namespace smtpkit::detail {

/// A grammatical esmtp-param (keyword an Ldh-str starting with a Let-dig,
/// value 1*esmtp-value octets): decode a known one into `out` and return
/// its first problem (unknown, duplicate, misplaced, bad value). Offsets in
/// the diagnostic are those of `p.offset`'s frame. `xtext` says the caller
/// has found the whole value to be xtext (RFC 3461 §4), so ENVID, AUTH= and
/// ORCPT need no scan (what follows ORCPT's first ";" is then xtext too: a
/// ";" is no hex digit, so it never falls inside a "+" hexchar).
diagnostic check_param(const esmtp_param& p, bool for_mail, mail_params& out, bool xtext = false) noexcept;

}  // namespace smtpkit::detail
