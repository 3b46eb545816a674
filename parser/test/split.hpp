// split.hpp — split-point testing: feed an input to the line framer in two
// pieces at every byte position, and byte by byte, and collect the lines,
// so each table case also proves the streaming path (need_more) agrees with
// parsing in one go.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "smtpkit/line.hpp"

namespace smtpkit::test {

struct framed {
  line_status status;
  line_ending ending;
  std::string line;
  errc diag;
  bool operator==(const framed&) const = default;
};

/// Feed `pieces` one after another; return every line result (need_more omitted).
/// `each` takes the lines with line_framer::each_line instead of next().
inline std::vector<framed> frame(const std::vector<std::string_view>& pieces, std::size_t limit = 512,
                                 parse_options opts = {}, bool at_eof = true, bool each = false) {
  line_framer f(limit, opts);
  std::string buf;
  std::vector<framed> out;
  auto drain = [&](bool eof) {
    if (each && !eof) {
      buf.erase(0, f.each_line(buf, [&](const line_result& r) {
        out.push_back({r.status, r.ending, std::string(r.line), r.diag.code});
        return true;
      }));
      return;
    }
    for (;;) {
      line_result r = eof ? f.finish(buf) : f.next(buf);
      if (r.status != line_status::need_more) out.push_back({r.status, r.ending, std::string(r.line), r.diag.code});
      buf.erase(0, r.consumed);
      if (r.status == line_status::need_more) break;
    }
  };
  for (auto p : pieces) {
    buf.append(p);
    drain(false);
  }
  if (at_eof) drain(true);
  return out;
}

/// Every way of splitting `input` (two pieces at each position, and one byte
/// at a time) must give `expected`. Returns a description of the first
/// disagreement, or an empty string.
inline std::string check_splits(std::string_view input, const std::vector<framed>& expected, std::size_t limit = 512,
                                parse_options opts = {}) {
  for (bool each : {false, true}) {
    const std::string how = each ? " (each_line)" : "";
    for (std::size_t k = 0; k <= input.size(); ++k) {
      auto got = frame({input.substr(0, k), input.substr(k)}, limit, opts, true, each);
      if (got != expected) return "split at " + std::to_string(k) + how;
    }
    std::vector<std::string_view> bytes;
    for (std::size_t k = 0; k < input.size(); ++k) bytes.push_back(input.substr(k, 1));
    if (frame(bytes, limit, opts, true, each) != expected) return "byte by byte" + how;
  }
  return {};
}

}  // namespace smtpkit::test
