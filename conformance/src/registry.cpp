// registry.cpp — embedded IANA SMTP service extension keywords and the
// RFC 6761 special-use names.
#include "smtpkit/conformance/registry.hpp"

#include <array>

#include "smtpkit/ascii.hpp"

namespace smtpkit::conformance {
namespace {

// IANA "SMTP Service Extensions" (iana.org/assignments/smtp), 2025-09-19.
// Keyword — defining document.
constexpr std::array<std::string_view, 34> keywords{
    "SEND",                 // RFC 821
    "SOML",                 // RFC 821
    "SAML",                 // RFC 821
    "EXPN",                 // RFC 821, RFC 5321
    "HELP",                 // RFC 821, RFC 5321
    "TURN",                 // RFC 821
    "8BITMIME",             // RFC 6152
    "SIZE",                 // RFC 1870
    "VERB",                 // (Allman)
    "ONEX",                 // (Allman)
    "CHUNKING",             // RFC 3030
    "BINARYMIME",           // RFC 3030
    "CHECKPOINT",           // RFC 1845
    "DELIVERBY",            // RFC 2852
    "PIPELINING",           // RFC 2920
    "DSN",                  // RFC 3461
    "ETRN",                 // RFC 1985
    "ENHANCEDSTATUSCODES",  // RFC 2034
    "STARTTLS",             // RFC 3207
    "NO-SOLICITING",        // RFC 3865
    "MTRK",                 // RFC 3885
    "SUBMITTER",            // RFC 4405
    "ATRN",                 // RFC 2645
    "AUTH",                 // RFC 4954
    "BURL",                 // RFC 4468
    "FUTURERELEASE",        // RFC 4865
    "CONPERM",              // RFC 4141
    "CONNEG",               // RFC 4141
    "UTF8SMTP",             // RFC 5336
    "SMTPUTF8",             // RFC 6531
    "MT-PRIORITY",          // RFC 6710
    "RRVS",                 // RFC 7293
    "REQUIRETLS",           // RFC 8689
    "LIMITS",               // RFC 9422
};

}  // namespace

std::span<const std::string_view> registered_keywords() noexcept { return keywords; }

bool registered_keyword(std::string_view keyword) noexcept {
  for (auto k : keywords)
    if (iequals(k, keyword)) return true;
  // VRFY names a command RFC 5321 itself defines, and RFC 5321 Appendix D.4
  // advertises it; it is accepted like the base commands EXPN and HELP.
  return iequals(keyword, "VRFY");
}

bool private_keyword(std::string_view keyword) noexcept {
  return !keyword.empty() && (keyword[0] == 'X' || keyword[0] == 'x');
}

bool fully_qualified(std::string_view domain) noexcept {
  if (domain.empty()) return false;
  if (domain.front() == '[') return true;  // address literal
  if (domain.find('.') != std::string_view::npos) return true;
  for (auto special : {"localhost", "test", "invalid", "example"})
    if (iequals(domain, special)) return true;
  return false;
}

}  // namespace smtpkit::conformance
