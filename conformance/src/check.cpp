// check.cpp — replay a transcript into the engine and map findings back to
// transcript lines.
#include "smtpkit/conformance/check.hpp"

#include <algorithm>
#include <tuple>

namespace smtpkit::conformance {
namespace {

struct anchor {
  side who;
  std::uint64_t start;  // offset of the record's first octet in its side's stream
  std::size_t line;
};

}  // namespace

session_report make_report(const engine& e, std::string source) {
  session_report r;
  r.source = std::move(source);
  r.findings = e.findings();
  r.applied = e.applied();
  for (int i : r.applied)
    if (auto n = e.suppressed(i)) r.suppressed.emplace_back(i, n);
  return r;
}

session_report check_transcript(const transcript& t, const engine_options& opts, feed_mode mode) {
  const auto started = std::chrono::steady_clock::now();
  engine e(opts);
  std::vector<anchor> anchors;
  std::uint64_t off[2] = {0, 0};
  std::string pending;
  side pending_side = side::client;

  auto send = [&](side who, std::string_view bytes) {
    if (mode == feed_mode::bytes) {
      for (char c : bytes) {
        std::string_view one(&c, 1);
        if (who == side::client) e.client_bytes(one);
        else e.server_bytes(one);
      }
    } else if (who == side::client) {
      e.client_bytes(bytes);
    } else {
      e.server_bytes(bytes);
    }
  };
  auto flush = [&] {
    if (!pending.empty()) send(pending_side, pending);
    pending.clear();
  };

  for (const record& rec : t.records) {
    if (rec.sends()) {
      const int s = static_cast<int>(rec.who);
      anchors.push_back({rec.who, off[s], rec.line});
      std::string b = rec.bytes();
      off[s] += b.size();
      if (mode == feed_mode::coalesce) {
        if (!pending.empty() && pending_side != rec.who) flush();
        pending_side = rec.who;
        pending += b;
      } else {
        send(rec.who, b);
      }
      continue;
    }
    flush();
    if (rec.kind == record_kind::directive) {
      if (rec.name == "tls") {
        anchors.push_back({side::client, off[0], rec.line});
        anchors.push_back({side::server, off[1], rec.line});
        e.tls_start();
      } else if (rec.name == "close") {
        anchors.push_back({rec.who, off[static_cast<int>(rec.who)], rec.line});
        e.close(rec.who);
      }
    }
  }
  flush();
  e.finish();

  session_report r = make_report(e, t.source);
  r.records = t.records.size();
  r.client_bytes = off[0];
  r.server_bytes = off[1];
  for (auto& f : r.findings) {
    // The last record of that side that starts at or before the offset.
    std::size_t line = 0;
    for (const auto& a : anchors)
      if (a.who == f.anchor && a.start <= f.offset) line = a.line;
    if (line == 0 && !t.records.empty()) line = t.records.front().line;
    f.line = line;
  }
  // Transcript order, then stream order: the engine may make two findings
  // of one line in either order depending on how the octets were cut.
  std::stable_sort(r.findings.begin(), r.findings.end(), [](const finding& a, const finding& b) {
    return std::tie(a.line, a.anchor, a.offset) < std::tie(b.line, b.anchor, b.offset);
  });
  r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  return r;
}

}  // namespace smtpkit::conformance
