// fuzz/fuzz_data.cpp — libFuzzer target for the DATA decoder
// (RFC 5321 §4.1.1.4 end of data, §4.5.2 transparency, §4.5.3.1.6 text
// line limit; the smuggling variants of data.hpp).
//
// Split scheme of fuzz_support.hpp. Option bits pick which "." variants also
// end the data (accept_as_end): 0 none, 1 all, otherwise one variant chosen
// by the upper bits. Invariants: every piece sits in its own heap block;
// consumed <= piece and stops at the end; content handed out is a view into
// the piece or one of the decoder's held-back octets (at most 3); offsets of
// anomalies never pass the stream offset; offset() and content_size() count
// what was consumed and handed out; the stream cut into pieces gives the
// same content, anomalies and end as the stream given whole; and content
// that ends in CRLF, dot-stuffed and terminated again, decodes to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "smtpkit/data.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

struct outcome {
  std::string content;
  std::vector<std::pair<data_anomaly, std::uint64_t>> anomalies;
  bool done = false;
  data_anomaly ended_by = data_anomaly::count_;
  std::uint64_t consumed = 0;
  bool operator==(const outcome&) const = default;
};

struct collector {
  std::string_view piece;
  outcome* out;
  std::uint64_t stream_end;  // offset just past the current piece
  void body(std::string_view s) {
    SMTPKIT_FUZZ_CHECK(!s.empty());
    SMTPKIT_FUZZ_CHECK(inside(s, piece) || s.size() <= 3);
    out->content.append(s);
  }
  void anomaly(data_anomaly a, std::uint64_t at) {
    SMTPKIT_FUZZ_CHECK(a < data_anomaly::count_);
    SMTPKIT_FUZZ_CHECK(!to_string(a).empty() && rule_id(a).substr(0, 5) == "data." && !rfc_section(a).empty());
    SMTPKIT_FUZZ_CHECK(at < stream_end);
    out->anomalies.emplace_back(a, at);
  }
};

outcome decode(const std::vector<std::string_view>& pieces, std::uint32_t accept) {
  data_decoder d(accept);
  outcome o;
  for (auto p : pieces) {
    const fuzz::owned_input block(p);
    collector c{block.view(), &o, d.offset() + p.size()};
    const std::uint64_t before = d.offset();
    data_result r = d.feed(block.view(), c);
    SMTPKIT_FUZZ_CHECK(r.consumed <= p.size());
    SMTPKIT_FUZZ_CHECK(d.offset() == before + (o.done ? 0 : r.consumed));
    if (o.done) {
      SMTPKIT_FUZZ_CHECK(r.done && r.consumed == 0);
      continue;
    }
    o.consumed += r.consumed;
    if (r.done) {
      o.done = true;
      o.ended_by = r.ended_by;
      SMTPKIT_FUZZ_CHECK(d.done());
      SMTPKIT_FUZZ_CHECK(r.ended_by == data_anomaly::count_ || (accept & anomaly_bit(r.ended_by)) != 0);
    } else {
      SMTPKIT_FUZZ_CHECK(r.consumed == p.size() && !d.done());
    }
  }
  SMTPKIT_FUZZ_CHECK(d.offset() == o.consumed);
  SMTPKIT_FUZZ_CHECK(d.content_size() == o.content.size());
  std::uint32_t seen = 0;
  for (auto& a : o.anomalies) seen |= anomaly_bit(a.first);
  SMTPKIT_FUZZ_CHECK(seen == d.seen());
  return o;
}

// §4.5.2: a line that starts with "." gets one more; then CRLF "." CRLF.
std::string stuff(std::string_view content) {
  std::string out;
  bool bol = true;
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (bol && content[i] == '.') out.push_back('.');
    out.push_back(content[i]);
    bol = content[i] == '\n' && i > 0 && content[i - 1] == '\r';
  }
  out.append(".\r\n");
  return out;
}

std::uint32_t accept_mask(std::uint8_t options) {
  switch (options & 3u) {
    case 0: return 0;
    case 1: {
      std::uint32_t all = 0;
      for (unsigned a = 0; a < static_cast<unsigned>(data_anomaly::count_); ++a)
        if (is_end_variant(static_cast<data_anomaly>(a))) all |= 1u << a;
      return all;
    }
    default: {
      const unsigned first = static_cast<unsigned>(data_anomaly::lf_dot_lf);
      const unsigned n = static_cast<unsigned>(data_anomaly::nul_dot) - first + 1;
      return 1u << (first + (options >> 2) % n);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::owned_input owned(data, size);
  const fuzz::split_input s = fuzz::split(owned.view());
  const std::uint32_t accept = accept_mask(s.options);

  const outcome whole = decode({s.payload}, accept);
  const outcome pieces = decode(s.pieces, accept);
  SMTPKIT_FUZZ_CHECK(whole == pieces);
  if (whole.done) SMTPKIT_FUZZ_CHECK(whole.consumed <= s.payload.size());

  // Content ending in CRLF survives dot-stuffing and decoding (strict end).
  const std::string& c = whole.content;
  if (c.empty() || (c.size() >= 2 && c.substr(c.size() - 2) == "\r\n")) {
    const std::string wire = stuff(c);
    const outcome again = decode({wire}, 0);
    SMTPKIT_FUZZ_CHECK(again.done && again.ended_by == data_anomaly::count_);
    SMTPKIT_FUZZ_CHECK(again.consumed == wire.size() && again.content == c);
  }
  return 0;
}
