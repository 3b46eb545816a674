// test_support.hpp — hooks for the parser's tests, fuzz targets and
// benchmarks (RFC 5321 §4.1.1-4.1.2 commands): the general command parser
// alone, whether the fast paths run and take a line, and field-by-field
// comparison of results.
//
// Not installed: it sits with the library's sources, reached through the
// internal target smtpkit::parser_test_support (parser/CMakeLists.txt), so
// no user of smtpkit::parser can come to depend on these.
#pragma once

#include <string_view>
#include <vector>

#include "smtpkit/command.hpp"
#include "smtpkit/options.hpp"
#include "smtpkit/params.hpp"

namespace smtpkit::detail {

/// parse_command without its fast paths: the general parser, which every
/// fast path must equal field for field (the tests and fuzz_command
/// compare the two on every input).
[[nodiscard]] command_result parse_command_general(std::string_view line, parse_options opts = {}) noexcept;
/// Whether parse_command uses a set of fast paths (MAIL/RCPT, and
/// EHLO/HELO domains): by default, whether this CPU runs one.
[[nodiscard]] bool command_fast_path_available() noexcept;
/// The set parse_command uses: "avx512", "avx2" or "none".
[[nodiscard]] const char* command_fast_path_name() noexcept;
/// Makes parse_command use the set named ("avx512", "avx2"), or none
/// ("none"): true when this CPU runs it, false (nothing changed) when it
/// does not. The choice holds for the whole process and is not
/// synchronised: call it before parsing starts, or between tests.
[[nodiscard]] bool use_command_fast_paths(std::string_view name) noexcept;
/// The sets this CPU runs, most capable first, "none" last: every value
/// use_command_fast_paths takes here.
[[nodiscard]] std::vector<std::string_view> command_fast_path_choices();
/// Whether a fast path takes `line` (never when none is available): shows
/// that a comparison with parse_command_general did exercise it.
[[nodiscard]] bool command_fast_path_takes(std::string_view line) noexcept;
/// The same diagnostic and the same fields, every non-empty view at the
/// same place in the line.
[[nodiscard]] bool same_result(const command_result& a, const command_result& b) noexcept;
/// The same typed parameters, every non-empty view at the same place.
[[nodiscard]] bool same_params(const mail_params& a, const mail_params& b) noexcept;

}  // namespace smtpkit::detail
