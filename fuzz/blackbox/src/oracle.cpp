// oracle.cpp — which engine findings count against a fuzzed server
// (smtpkit/fuzz/oracle.hpp).
#include "smtpkit/fuzz/oracle.hpp"

namespace smtpkit::fuzz {

conformance::engine_options oracle_engine_options() {
  conformance::engine_options eo;
  eo.judge_client = false;  // the client is the fuzzer, and a fuzzing one
  return eo;
}

void violation_oracle::client_bytes(std::string_view octets) noexcept {
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
