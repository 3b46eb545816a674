// search.hpp — Mailpit's search filters (https://mailpit.axllent.org/docs/usage/search-filters/),
// the part tests use: plain words and "quoted phrases" (subject, addresses,
// attachment names, text), from:, to:, cc:, bcc:, subject:, message-id:,
// is:read, is:unread, has:attachment, larger:/smaller: (10K, 2M),
// before:/after: (YYYY-MM-DD, UTC), each negated by a leading - or !.
// Matching ignores case.
//
// Limits: no tags (tag: and is:tagged match nothing), no time zone (tz= is
// ignored: dates are UTC), no header: or addressed: filters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mailbox.hpp"

namespace smtpkit::mock::view {

struct search_term {
  std::string field;  ///< "" (plain), "from", "to", "is", "has", ...
  std::string value;  ///< lower case
  bool negated = false;
};

std::vector<search_term> parse_search(std::string_view query);

/// True when `m` (with its summary `s`; null when unreadable) matches every term.
bool matches(const std::vector<search_term>& terms, const mail& m, const summary* s);

}  // namespace smtpkit::mock::view
