// state.cpp — what a reply establishes (RFC 5321 §4.1.1, §4.1.4): the
// session state both judges read, moved by each command's outcome. The
// server judge applies replies as they come; the client judge applies the
// commands still awaiting a reply as if they succeed, which is what a
// pipelining client may assume (RFC 2920 §3.1).
#include "engine_impl.hpp"

namespace smtpkit::conformance {

namespace {

// An accepted EHLO or HELO clears the transaction, as RSET would
// (§4.1.4); HELO leaves no extension in force.
void apply_hello(smtp_state& s, verb v, const ehlo_info* ehlo) {
  s.hello = true;
  s.esmtp = v == verb::ehlo;
  s.reset_txn();
  if (v == verb::helo) {
    s.ext = 0;
    s.size_limit = 0;
    s.auth_mechs.clear();
  } else if (ehlo) {
    s.ext = ehlo->extensions;
    s.size_limit = ehlo->size_declared ? ehlo->size_limit : 0;
    s.auth_mechs = std::string(ehlo->auth_mechanisms);
  }
}

}  // namespace

bool is_sync_point(const pending& p) { return p.sync_point; }

void apply(smtp_state& s, const pending& p, std::uint16_t code, const ehlo_info* ehlo) {
  const bool assume = code == 0;
  const bool positive = assume || (code >= 200 && code < 400);
  switch (p.kind) {
    case pending_kind::data_end:
      s.reset_txn();  // accepted or not, the transaction is over (§4.1.1.4)
      return;
    case pending_kind::auth_response:
      if (assume || code == 235) s.authed = true;
      return;
    case pending_kind::bdat_chunk:
    case pending_kind::command: break;
  }
  switch (p.v) {
    case verb::ehlo:
    case verb::helo:
      if (assume || code == 250) apply_hello(s, p.v, ehlo);
      break;
    case verb::mail:
      if (positive && s.t == smtp_state::txn::none) {
        s.reset_txn();
        s.t = smtp_state::txn::mail;
        s.txn_smtputf8 = p.mail_smtputf8;
        s.body = p.body;
      }
      s.mail_tried = true;
      break;
    case verb::rcpt:
      if (positive && s.t != smtp_state::txn::none) {
        s.t = smtp_state::txn::rcpt;
        ++s.rcpts;
      }
      s.rcpt_tried = true;
      break;
    case verb::data:
      if (assume || code == 354) s.used_data = true;
      break;
    case verb::bdat:
      if (!positive) s.bdat_failed = true;
      if (positive) {
        s.used_bdat = true;
        if (p.bdat_last) {
          // The transaction is over, but until MAIL, RSET or EHLO starts
          // afresh a BDAT is one "sent after the BDAT LAST" (RFC 3030 §2).
          s.reset_txn();
          s.bdat_last = true;
        }
      }
      break;
    case verb::rset:
      if (positive) s.reset_txn();
      break;
    case verb::quit:
      // A QUIT line refused as malformed (500/501) was not taken as QUIT:
      // the session goes on and a well-formed QUIT may follow.
      if (assume || p.grammar == errc::ok || (code != 500 && code != 501)) s.quit = true;
      break;
    case verb::auth:
      if (code == 235 || (assume && p.auth_initial)) s.authed = true;
      break;
    default: break;
  }
}

}  // namespace smtpkit::conformance
