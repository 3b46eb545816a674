// grounds.hpp — the RFC text each rule rests on (grounds.cpp), joined to
// the catalogue by id in rules.cpp.
#pragma once

#include <string_view>

namespace smtpkit::conformance {

struct grounds {
  std::string_view id;       ///< rule id, or a grammar id ("line.bare-lf") for both sides
  std::string_view section;  ///< where the quote stands, e.g. "RFC 5321 §4.1.2"
  std::string_view quote;    ///< the RFC's words, as published; empty when only summarised
  std::string_view note;     ///< how smtpkit reads it: level, prose that widens the ABNF, a summary
  std::string_view errata;   ///< errata of that RFC considered
};

/// The grounds of a rule (full id) or grammar rule (grammar id), or null.
const grounds* find_grounds(std::string_view id) noexcept;

}  // namespace smtpkit::conformance
