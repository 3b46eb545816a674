// data.cpp — the DATA decoder's search for line ends (RFC 5321 §4.5.2,
// §2.3.8), and the names, rule ids and RFC sections of DATA stream
// anomalies (§4.1.1.4, §4.5.3.1.6; RFC 6152 §3).
#include "smtpkit/data.hpp"

#include <array>

#include "scan.hpp"

namespace smtpkit {
namespace {

struct anomaly_row {
  std::string_view name;
  std::string_view id;
  std::string_view rfc;
};

constexpr std::array<anomaly_row, static_cast<std::size_t>(data_anomaly::count_)> rows{{
    {"bare-cr", "data.bare-cr", "RFC 5321 §2.3.8"},
    {"bare-lf", "data.bare-lf", "RFC 5321 §2.3.8"},
    {"nul", "data.nul", "RFC 5321 §4.5.2"},
    {"8bit", "data.eight-bit", "RFC 6152 §3"},
    {"line-too-long", "data.line-too-long", "RFC 5321 §4.5.3.1.6"},
    {"<LF>.<LF>", "data.eod.lf-dot-lf", "RFC 5321 §4.1.1.4"},
    {"<LF>.<CR><LF>", "data.eod.lf-dot-crlf", "RFC 5321 §4.1.1.4"},
    {"<LF>.<CR>", "data.eod.lf-dot-cr", "RFC 5321 §4.1.1.4"},
    {"<CR><LF>.<LF>", "data.eod.crlf-dot-lf", "RFC 5321 §4.1.1.4"},
    {"<CR><LF>.<CR>", "data.eod.crlf-dot-cr", "RFC 5321 §4.1.1.4"},
    {"<CR>.<CR>", "data.eod.cr-dot-cr", "RFC 5321 §4.1.1.4"},
    {"<CR>.<LF>", "data.eod.cr-dot-lf", "RFC 5321 §4.1.1.4"},
    {"<CR>.<CR><LF>", "data.eod.cr-dot-crlf", "RFC 5321 §4.1.1.4"},
    {"<CR><LF><NUL>.<CR><LF>", "data.eod.nul-dot", "RFC 5321 §4.1.1.4"},
}};

const anomaly_row& row(data_anomaly a) noexcept {
  auto i = static_cast<std::size_t>(a);
  static constexpr anomaly_row none{"?", "?", ""};
  return i < rows.size() ? rows[i] : none;
}

}  // namespace

// A call per line: alternating runs of the DATA benchmark put it within
// noise of the search inlined into feed() (bench/README.md).
const char* data_decoder::find_stop(const char* p, const char* end, bool& high) noexcept {
  return detail::find_cr_lf_nul(p, end, high);
}

std::string_view to_string(data_anomaly a) noexcept { return row(a).name; }
std::string_view rule_id(data_anomaly a) noexcept { return row(a).id; }
std::string_view rfc_section(data_anomaly a) noexcept { return row(a).rfc; }

}  // namespace smtpkit
