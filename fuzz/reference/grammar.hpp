// fuzz/reference/grammar.hpp — the reference SMTP grammar (smtp.abnf on top
// of RFC 5234's core rules, plus smtputf8.abnf when SMTPUTF8 is in force),
// read once from text compiled into the binary.
//
// The grammar is immutable after the first call, so targets that use it
// stay deterministic. A grammar that does not load is a build defect: the
// process aborts with the reason on stderr.
#pragma once

#include "reference/abnf.hpp"

namespace smtpkit::reference {

const abnf::grammar& smtp_grammar(bool smtputf8);

}  // namespace smtpkit::reference
