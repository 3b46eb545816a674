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

// feed()'s mid state for as many lines as need nothing else; feed() takes
// over where a report is due or a line end is not the ordinary one. The
// state is kept in locals and written back once. A call per line end cost
// the DATA decoder 2-6 % in alternating runs; this loop, nothing beyond
// noise (bench/README.md).
std::size_t data_decoder::pass_lines(const char* p, std::size_t& at, std::size_t n, bool& high) noexcept {
  std::size_t i = at;
  std::uint64_t len = line_len_;
  bool long_reported = long_reported_;
  const bool eight_bit_reported = eight_bit_reported_;
  for (;;) {
    bool h = false;
    const std::size_t j = static_cast<std::size_t>(detail::find_cr_lf_nul(p + i, p + n, h) - p);
    const bool report = (h && !eight_bit_reported) || (len + (j - i) > 998 && !long_reported);
    if (report || j + 2 >= n || p[j] != '\r' || p[j + 1] != '\n' || p[j + 2] == '.' || p[j + 2] == '\0') {
      at = i;
      line_len_ = len;
      long_reported_ = long_reported;
      high = h;
      return j;
    }
    // The ordinary line end, as feed() takes it: the next line is new.
    i = j + 2;
    len = 0;
    long_reported = false;
  }
}

std::string_view to_string(data_anomaly a) noexcept { return row(a).name; }
std::string_view rule_id(data_anomaly a) noexcept { return row(a).id; }
std::string_view rfc_section(data_anomaly a) noexcept { return row(a).rfc; }

}  // namespace smtpkit
