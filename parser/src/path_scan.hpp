// path_scan.hpp — the prefix scanners of paths, hosts and strings (RFC
// 5321 §4.1.2, §4.1.3; RFC 6531 §3.3), which the command and reply parsers
// and the MAIL/RCPT fast path build on. Internal: path.hpp's parse_*
// functions are the public entry points.
#pragma once

#include <cstddef>
#include <string_view>

#include "smtpkit/error.hpp"
#include "smtpkit/options.hpp"
#include "smtpkit/path.hpp"

namespace smtpkit::detail {

// Prefix scanners used by the command and reply parsers: they start at `pos`,
// advance it past what they matched, and report errors at absolute offsets.
// scan_path fills a default-constructed `out` (it sets only the fields that
// apply): resetting a 144-octet struct on every path cost more than
// scanning the path itself.
diagnostic scan_domain(std::string_view s, std::size_t& pos, parse_options opts, host& out) noexcept;
diagnostic scan_address_literal(std::string_view s, std::size_t& pos, parse_options opts, host& out) noexcept;
diagnostic scan_host(std::string_view s, std::size_t& pos, parse_options opts, host& out) noexcept;
diagnostic scan_path(std::string_view s, std::size_t& pos, path_kind kind, parse_options opts, path& out) noexcept;
diagnostic scan_atom(std::string_view s, std::size_t& pos, parse_options opts) noexcept;
diagnostic scan_quoted_string(std::string_view s, std::size_t& pos, parse_options opts) noexcept;

}  // namespace smtpkit::detail
