// oracle.cpp — which engine findings count against a fuzzed server
// (smtpkit/fuzz/oracle.hpp).
#include "smtpkit/fuzz/oracle.hpp"

#include "smtpkit/ascii.hpp"

namespace smtpkit::fuzz {

conformance::engine_options oracle_engine_options() {
  conformance::engine_options eo;
  eo.judge_client = false;  // the client is the fuzzer, and a fuzzing one
  return eo;
}

void violation_oracle::client_bytes(std::string_view octets) noexcept {
  // An AUTH line with more octets behind it in the same write: a server
  // that refuses the AUTH reads them as commands, one that takes it as the
  // SASL response (RFC 4954 §4: AUTH ends a pipelined group); the engine
  // can only guess which until the replies show it.
  for (std::size_t at = 0; at + 5 < octets.size() && !unread_;) {
    const std::size_t eol = octets.find('\n', at);
    if (eol == std::string_view::npos) break;
    const std::string_view line = octets.substr(at, eol - at);
    if (istarts_with(line, "AUTH ") && eol + 1 < octets.size()) unread_ = true;
    at = eol + 1;
  }
  if (bare_) return;
  for (char c : octets) {
    if ((cr_last_ && c != '\n') || (!cr_last_ && c == '\n')) {
      bare_ = true;
      return;
    }
    cr_last_ = c == '\r';
  }
}

void violation_oracle::exchange(const conformance::exchange& x) noexcept {
  if (x.code == 334) sasl_ = true;
  if (x.what == conformance::exchange::kind::command && x.v == verb::unknown && x.code >= 200 && x.code < 400)
    unread_ = true;
  // A line the engine took for a SASL response answered as a command
  // would be (354, 250...; a SASL step gets 235, 334 or a failure, RFC
  // 4954 §4, §6): the server read it as a command, so the engine no longer
  // follows the server's state.
  if (x.what == conformance::exchange::kind::auth_response && x.code >= 200 && x.code < 400 && x.code != 235 &&
      x.code != 334)
    unread_ = true;
}

bool violation_oracle::pairing_known(const conformance::engine& eng) const noexcept {
  return eng.bare_lines() == 0 && !(sasl_ && bare_) && !unread_;
}

bool violation_oracle::counts(const conformance::engine& eng, const conformance::finding& f) const {
  if (!pairing_known(eng)) return false;
  // The rule's own level: a fuzzing session applies no policy.
  return conformance::counts(f.r().lvl, fail_on_);
}

}  // namespace smtpkit::fuzz
