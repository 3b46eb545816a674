// message_match.cpp — a client's message against the one a script recorded:
// header sections and fields (RFC 5322 §2.2, §3.6), MIME parts and their
// boundaries (RFC 2046 §5.1.1), line by line; the grammar of those lines is
// parser/'s (smtpkit/message.hpp).
#include "smtpkit/mock/script/message_match.hpp"

#include <algorithm>

#include "smtpkit/escape.hpp"
#include "smtpkit/ascii.hpp"
#include "smtpkit/message.hpp"

namespace smtpkit::mock {
namespace {

// One line of either message: an exact line (with its line end) or a pattern.
struct line {
  std::string_view wire;         // exact: the octets, line end included
  const pattern* pat = nullptr;  // or the C~ record
  std::size_t script_line = 0;   // expected side
  [[nodiscard]] std::string_view text() const {
    if (pat) return pat->text();
    std::string_view t = wire;
    if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
    if (!t.empty() && t.back() == '\r') t.remove_suffix(1);
    return t;
  }
};

enum class role : unsigned char { body, field, more, end, open, close };

// Where each line stands in the message: header fields (and the lines that
// continue them), the end of a header section, delimiter lines, the rest;
// and which boundary a delimiter line, or the Content-Type field that
// declares a boundary, holds.
struct shape {
  std::vector<role> roles;
  std::vector<std::string> names;       // field, more: the field's name
  std::vector<std::string> boundaries;  // in the order declared; "" when a pattern declares it
  std::vector<int> boundary;            // per line: the boundary it holds, -1 for none
  std::vector<std::size_t> at;          // per line: where in the line (declaring lines)
};

// The text a line shows for telling its kind: an exact line's text, a
// pattern's literal start (unescaped: "\\t{*}" starts with a tab).
std::string literal_start(const line& l) {
  std::string_view t = l.text();
  if (!l.pat) return std::string(t);
  std::string bytes;
  unescape_error ignored;
  if (!unescape(t.substr(0, t.find('{')), bytes, ignored)) bytes.clear();
  return bytes;
}

// `contiguous`: the lines are views into one buffer, one after the other
// (the received message), so a declared boundary can be found in its line.
shape shape_of(const std::vector<line>& lines, bool contiguous) {
  shape s;
  s.roles.assign(lines.size(), role::body);
  s.names.assign(lines.size(), {});
  s.boundary.assign(lines.size(), -1);
  s.at.assign(lines.size(), 0);
  bool header = true;
  std::size_t field = lines.size();  // first line of the open field
  auto close_field = [&](std::size_t end) {
    const std::size_t first = field;
    field = lines.size();
    if (first >= end || !iequals(s.names[first], "Content-Type")) return;
    bool patterned = false;
    for (std::size_t k = first; k < end; ++k) patterned = patterned || lines[k].pat != nullptr;
    if (patterned) {
      std::string body;
      for (std::size_t k = first; k < end; ++k) body += lines[k].text();
      std::transform(body.begin(), body.end(), body.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
      if (body.find("multipart") != std::string::npos) s.boundaries.emplace_back();
      return;
    }
    std::string_view b;
    const std::string_view value = classify_header_line(lines[first].text()).value;
    if (contiguous) {
      const char* stop = lines[end - 1].wire.data() + lines[end - 1].wire.size();
      b = multipart_boundary(std::string_view(value.data(), static_cast<std::size_t>(stop - value.data())));
      for (std::size_t k = first; k < end && !b.empty(); ++k) {
        const char* w = lines[k].wire.data();
        if (b.data() >= w && b.data() < w + lines[k].wire.size()) {
          s.boundary[k] = static_cast<int>(s.boundaries.size());
          s.at[k] = static_cast<std::size_t>(b.data() - w);
        }
      }
    } else {
      std::string body(value);
      for (std::size_t k = first + 1; k < end; ++k) body.append("\r\n").append(lines[k].text());
      b = multipart_boundary(body);
      if (!b.empty()) s.boundaries.emplace_back(b);
      return;
    }
    if (!b.empty()) s.boundaries.emplace_back(b);
  };
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const line& l = lines[k];
    if (header) {
      const std::string start = literal_start(l);
      const header_line h = classify_header_line(start);
      if (h.kind == header_line_kind::end && !(l.pat && !l.text().empty())) {
        close_field(k);
        s.roles[k] = role::end;
        header = false;
      } else if (h.kind == header_line_kind::continuation && field < lines.size()) {
        s.roles[k] = role::more;
        s.names[k] = s.names[field];
      } else if (h.kind == header_line_kind::field) {
        close_field(k);
        field = k;
        s.roles[k] = role::field;
        s.names[k] = std::string(h.name);
      } else {
        close_field(k);
      }
      continue;
    }
    const std::string_view t = l.text();
    for (std::size_t n = s.boundaries.size(); n-- > 0;) {
      const std::string& b = s.boundaries[n];
      delimiter_kind d = delimiter_kind::none;
      if (!b.empty() && !l.pat) {
        d = delimiter_line(t, b);
      } else if (b.empty() && l.pat && t.starts_with("--")) {
        d = t.size() > 2 && t.ends_with("--") ? delimiter_kind::close : delimiter_kind::open;
      }
      if (d == delimiter_kind::none) continue;
      s.roles[k] = d == delimiter_kind::open ? role::open : role::close;
      s.boundary[k] = static_cast<int>(n);
      s.at[k] = 2;
      header = d == delimiter_kind::open;
      break;
    }
  }
  close_field(lines.size());
  return s;
}

std::vector<line> received_lines(std::string_view received) {
  std::vector<line> out;
  std::size_t start = 0;
  while (start < received.size()) {
    std::size_t nl = received.find('\n', start);
    std::size_t end = nl == std::string_view::npos ? received.size() : nl + 1;
    out.push_back({received.substr(start, end - start), nullptr, 0});
    start = end;
  }
  return out;
}

// Exact records are joined and cut at their LFs (a line may be recorded in
// pieces, as C= records); a pattern is a line of its own.
std::vector<line> expected_lines(const std::vector<expected_record>& records, std::vector<std::string>& storage) {
  storage.clear();
  std::vector<std::pair<std::string, std::size_t>> exact;  // octets, script line
  struct item {
    std::size_t exact = 0;  // index into exact, or npos for a pattern
    const expected_record* rec = nullptr;
  };
  std::vector<item> order;
  std::string acc;
  std::size_t acc_line = 0;
  auto flush = [&](bool all) {
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = acc.find('\n', start);
      if (nl == std::string::npos) break;
      exact.emplace_back(acc.substr(start, nl + 1 - start), acc_line);
      order.push_back({exact.size() - 1, nullptr});
      start = nl + 1;
    }
    acc.erase(0, start);
    if (all && !acc.empty()) {
      exact.emplace_back(std::move(acc), acc_line);
      order.push_back({exact.size() - 1, nullptr});
      acc.clear();
    }
  };
  for (const auto& r : records) {
    if (r.pat) {
      flush(true);
      order.push_back({std::string::npos, &r});
      continue;
    }
    if (acc.empty()) acc_line = r.line;
    acc += r.bytes;
    flush(false);
    if (acc.empty()) acc_line = 0;
  }
  flush(true);
  for (auto& e : exact) storage.push_back(std::move(e.first));
  std::vector<line> out;
  for (const auto& o : order) {
    if (o.rec) out.push_back({{}, o.rec->pat, o.rec->line});
    else out.push_back({storage[o.exact], nullptr, exact[o.exact].second});
  }
  return out;
}

std::string record_of(const line& l) {
  if (l.pat) return "C~ " + l.pat->text();
  if (l.wire.ends_with("\r\n")) return "C: " + escape(l.text());
  return "C= " + escape(l.wire);
}

bool is_ignored(std::string_view name, const message_rules& r) {
  for (auto n : generated_fields())
    if (iequals(n, name)) return true;
  for (const auto& n : r.ignore)
    if (iequals(n, name)) return true;
  return false;
}

// The received line with its boundary written as the expected message
// declared it (delimiter lines, and the Content-Type field declaring it).
std::string with_boundary(const line& r, std::size_t j, const shape& sr, const std::vector<std::string>& to) {
  std::string w(r.wire);
  const int k = sr.boundary[j];
  if (k < 0 || static_cast<std::size_t>(k) >= to.size() || to[static_cast<std::size_t>(k)].empty()) return w;
  return w.replace(sr.at[j], sr.boundaries[static_cast<std::size_t>(k)].size(), to[static_cast<std::size_t>(k)]);
}

bool line_matches(const line& e, const line& r, std::string_view r_wire) {
  if (e.pat) return r.wire.ends_with("\r\n") && e.pat->match(r.text());
  return e.wire == r_wire;
}

}  // namespace

const std::vector<std::string_view>& generated_fields() {
  // RFC 5322 §3.6.1 (Date), §3.6.4 (Message-ID), §3.6.6 (Resent-*), §3.6.7
  // (trace fields, each hop's own); RFC 2045 §7 (Content-ID, unique per
  // part); the client's name and version, and the ids some clients add.
  static const std::vector<std::string_view> names = {
      "Date",
      "Message-ID",
      "Resent-Date",
      "Resent-Message-ID",
      "Received",
      "Return-Path",
      "Content-ID",
      "X-Mailer",
      "User-Agent",
      "Thread-Index",
      "X-Universally-Unique-Identifier",
  };
  return names;
}

message_verdict compare_message(const std::vector<expected_record>& expected, std::string_view received, bool complete,
                                const message_rules& rules) {
  std::vector<std::string> storage;
  const std::vector<line> E = expected_lines(expected, storage);
  std::vector<line> R = received_lines(received);
  if (!complete && !R.empty() && !R.back().wire.ends_with('\n')) R.pop_back();  // cut inside a line
  const shape se = shape_of(E, false);
  const shape sr = shape_of(R, true);
  message_verdict v;

  // The received message's boundaries, by the order they are declared in,
  // become the recorded ones ("": leave it, a pattern matches it).
  std::vector<std::string> to;
  if (!rules.strict) {
    bool varied = false;
    for (std::size_t k = 0; k < std::min(se.boundaries.size(), sr.boundaries.size()); ++k) {
      to.push_back(se.boundaries[k]);
      varied = varied || (!se.boundaries[k].empty() && se.boundaries[k] != sr.boundaries[k]);
    }
    if (varied) v.varied.emplace_back("MIME boundary");
  }

  // Fields not compared, by name: each side's lines, in order.
  struct skipped {
    std::string name;                                  // as the recorded message spells it, if it has it
    std::size_t first = static_cast<std::size_t>(-1);  // where the recorded message has it
    std::vector<const line*> e, r;
  };
  std::vector<skipped> skips;
  auto skip_fields = [&](const std::vector<line>& L, const shape& s, std::size_t& i, bool expected_side) {
    while (!rules.strict && i < L.size() && s.roles[i] == role::field && is_ignored(s.names[i], rules)) {
      auto it = std::find_if(skips.begin(), skips.end(), [&](const skipped& k) { return iequals(k.name, s.names[i]); });
      if (it == skips.end())
        it = skips.insert(skips.end(), {std::string(s.names[i]), static_cast<std::size_t>(-1), {}, {}});
      if (expected_side && it->e.empty()) {
        it->name = std::string(s.names[i]);
        it->first = i;
      }
      auto& into = expected_side ? it->e : it->r;
      do into.push_back(&L[i++]);
      while (i < L.size() && s.roles[i] == role::more);
    }
  };

  std::size_t i = 0, j = 0;
  for (;;) {
    skip_fields(E, se, i, true);
    skip_fields(R, sr, j, false);
    if (i == E.size() && j == R.size()) break;
    if (j == R.size() && !complete) {
      v.same = false;
      v.line = i < E.size() ? E[i].script_line : 0;
      v.expected = i < E.size() ? record_of(E[i]) : "(the end of the message)";
      v.received =
          "(more octets than the recorded message holds: " + std::to_string(received.size()) + " and counting)";
      return v;
    }
    if (i == E.size() || j == R.size() ||
        !line_matches(E[i], R[j], rules.strict ? std::string(R[j].wire) : with_boundary(R[j], j, sr, to))) {
      v.same = false;
      v.line = i < E.size() ? E[i].script_line : 0;
      v.expected = i < E.size() ? record_of(E[i]) : "(the end of the message)";
      v.received_line = j < R.size() ? j + 1 : 0;
      v.received = j < R.size() ? escape(R[j].wire) : "(the end of the message)";
      if (j < R.size()) v.excerpt = escape(R[j].text());
      if (i == E.size() && !E.empty()) v.line = E.back().script_line;
      return v;
    }
    ++i;
    ++j;
  }

  std::stable_sort(skips.begin(), skips.end(), [](const skipped& a, const skipped& b) { return a.first < b.first; });
  for (const auto& k : skips) {
    bool same = k.e.size() == k.r.size();
    for (std::size_t n = 0; same && n < k.e.size(); ++n) same = line_matches(*k.e[n], *k.r[n], k.r[n]->wire);
    if (!same) v.varied.push_back(k.name);
  }
  return v;
}

}  // namespace smtpkit::mock
