// report_text.cpp — the text report (report.hpp), for people: dialogues as
// one line per finding in the "file:line:" form compilers use, so editors
// and CI log parsers jump to it; scenarios grouped with counts, and the
// dialogue of every failure. Colour only when the caller asks for it.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "report_format.hpp"

namespace smtpkit::conformance {
namespace {

using detail::paint;
using detail::safe;

// --- dialogues (check, replay) ---

void write_findings(std::ostream& out, const report& r, const report_options& o) {
  std::size_t total[4] = {0, 0, 0, 0};
  std::size_t failing = 0, waived = 0;
  for (const auto& s : r.dialogues) {
    if (s.unreadable) {
      out << paint(o.color, "\033[31m", s.error.to_string()) << "\n";
      ++failing;
      continue;
    }
    const auto t = detail::count(s, o.fail_on);
    for (int i = 0; i < 4; ++i) total[i] += t.by_level[i];
    waived += t.waived;
    if (t.counted) ++failing;
    for (const auto& f : s.findings) {
      const auto& rule = f.r();
      const char* colour = f.waived.empty() ? detail::colour_of(f.lvl()) : "\033[2m";
      out << fmt::format("{}:{}: {} {} {}: {} ({}){}\n", s.source, f.line, to_string(rule.binds),
                         paint(o.color, colour, detail::level_text(f)), rule.id, safe(f.message), rule.rfc,
                         detail::waiver_text(f.waived, f.waived_by));
      if (!f.excerpt.empty()) out << "    " << paint(o.color, "\033[2m", safe(f.excerpt)) << "\n";
    }
    for (const auto& [rule, n] : s.suppressed)
      out << fmt::format("{}: {} more {} not shown\n", s.source, n, catalogue()[static_cast<std::size_t>(rule)].id);
  }
  const std::size_t n = r.dialogues.size();
  // The run's verdict: a replay whose replies differ fails too (its line
  // of differences follows).
  const bool bad = failed(r, o.fail_on);
  out << fmt::format("{} {}: {} MUST, {} SHOULD, {} MAY, {} advice{} — {} (fail on {}, {} failing)\n", n,
                     n == 1 ? "dialogue" : "dialogues", total[0], total[1], total[2], total[3],
                     waived ? fmt::format(", {} waived", waived) : std::string(),
                     paint(o.color, bad ? "\033[31;1m" : "\033[32;1m", bad ? "FAIL" : "PASS"), to_string(o.fail_on),
                     failing);
}

std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto nl = s.find('\n');
    out.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos) return out;
    s.remove_prefix(nl + 1);
  }
}

// The recorded reply and the one received, side by side, line by line;
// "!" marks the lines that differ.
void write_side_by_side(std::ostream& out, const mismatch& m, const report_options& o) {
  const auto rec = lines_of(m.recorded);
  const auto got = lines_of(m.received);
  constexpr std::size_t widest = 60;
  std::size_t width = std::string_view("recorded").size();
  for (auto l : rec) width = std::max(width, std::min(l.size(), widest));
  out << fmt::format("    {:<{}} | {}\n", "recorded", width, "received");
  for (std::size_t i = 0; i < std::max(rec.size(), got.size()); ++i) {
    std::string left(i < rec.size() ? rec[i] : std::string_view());
    if (left.size() > width) left = left.substr(0, width - 3) + "...";
    const std::string_view right = i < got.size() ? got[i] : std::string_view();
    const bool same = i < rec.size() && i < got.size() && rec[i] == got[i];
    const std::string row = fmt::format("  {} {:<{}} | {}", same ? ' ' : '!', safe(left), width, safe(right));
    out << (same ? row : paint(o.color, "\033[31m", row)) << "\n";
  }
}

void write_replay(std::ostream& out, const report& r, const report_case& rc, const report_options& o) {
  for (const auto& m : rc.mismatches) {
    out << fmt::format("{}:{}: reply differs: expected {}, received {}\n", rc.file, m.line, m.expected,
                       detail::one_line(m.received));
    if (!m.recorded.empty()) write_side_by_side(out, m, o);
  }
  if (rc.result == outcome::error) out << rc.file << ": " << rc.reason << "\n";
  write_findings(out, r, o);
  // Findings name lines of the live dialogue: show it when there are any,
  // unless it was saved to a file, which the findings then name.
  const session_report& d = r.dialogues.at(rc.dialogue);
  if (!rc.saved && (!d.findings.empty() || !rc.mismatches.empty())) {
    out << "\nthe replayed dialogue (" << r.target.name << "):\n";
    std::string_view t = d.transcript;
    for (std::size_t n = 1; !t.empty(); ++n) {
      const auto nl = t.find('\n');
      out << "  " << n << "  " << t.substr(0, nl) << "\n";
      if (nl == std::string_view::npos) break;
      t.remove_prefix(nl + 1);
    }
  }
  out << fmt::format("{} replies compared {}, {} differ\n", rc.compared, rc.exact ? "exactly" : "by code",
                     rc.mismatches.size());
}

// --- scenarios (probe) ---

void write_target(std::ostream& out, const report& r, const report_options& o) {
  const auto& t = r.target;
  out << paint(o.color, "\033[1m", r.tool + " " + t.name) << "\n";
  if (!t.greeting.empty()) out << "  greeting:   " << safe(t.greeting) << "\n";
  if (!t.ehlo.empty()) out << "  advertised: " << safe(fmt::format("{}", fmt::join(t.ehlo, ", "))) << "\n";
  if (!t.tls.empty()) out << "  TLS:        " << t.tls << "\n";
  if (t.unreachable) out << paint(o.color, "\033[35;1m", "  unreachable: " + t.unreachable_reason) << "\n";
}

std::string verdict_tag(const report_case& c, const report_options& o) {
  switch (c.result) {
    case outcome::pass: return paint(o.color, "\033[32m", "pass ");
    case outcome::fail: {
      if (!c.waived.empty()) return paint(o.color, "\033[2m", "FAIL ");
      const char* colour = c.failed_level == level::must     ? "\033[31;1m"
                           : c.failed_level == level::should ? "\033[33;1m"
                                                             : "\033[36m";
      return paint(o.color, colour, "FAIL ");
    }
    case outcome::not_applicable: return paint(o.color, "\033[2m", "n/a  ");
    case outcome::error: return paint(o.color, "\033[35;1m", "ERROR");
    case outcome::not_done: return paint(o.color, "\033[2m", "n/d  ");
  }
  return {};
}

// Why a failed or erred scenario failed: the replies that differed, the
// findings it checks, and the dialogue, numbered.
void write_evidence(std::ostream& out, const report& r, const report_case& c, const report_options& o) {
  // A failure that no mismatch or finding explains says why in words.
  if (c.result == outcome::fail && c.mismatches.empty() && c.findings.empty() && !c.reason.empty())
    out << "        " << safe(c.reason) << "\n";
  for (const auto& n : c.notes) out << "        note: " << safe(n) << "\n";
  if (!c.process_status.empty()) {
    out << "        client: " << safe(c.process_status) << "\n";
    std::string_view tail = c.process_output;
    // The last lines of what it printed say most.
    std::size_t lines = 0, at = tail.size();
    while (at > 0 && lines < 6) {
      at = tail.rfind('\n', at - 1);
      if (at == std::string_view::npos) {
        at = 0;
        break;
      }
      ++lines;
    }
    tail.remove_prefix(at);
    while (!tail.empty()) {
      const auto nl = tail.find('\n');
      if (auto line = tail.substr(0, nl); !line.empty()) out << "          | " << safe(line) << "\n";
      if (nl == std::string_view::npos) break;
      tail.remove_prefix(nl + 1);
    }
  }
  for (const auto& m : c.mismatches)
    out << fmt::format("        {}:{}: expected {}, received {}\n", c.file, m.line, safe(detail::one_line(m.expected)),
                       safe(detail::one_line(m.received)));
  if (c.dialogue == no_dialogue) return;
  const session_report& d = r.dialogues[c.dialogue];
  for (std::size_t i : c.findings) {
    const auto& f = d.findings[i];
    const auto lvl = f.lvl();
    finding shown = f;
    shown.message = safe(f.message);
    out << "        "
        << detail::finding_line(fmt::format("dialogue:{}", f.line), shown,
                                paint(o.color, lvl == level::must ? "\033[31m" : "\033[33m", detail::level_text(f)))
        << detail::waiver_text(f.waived, f.waived_by) << "\n";
  }
  out << "        dialogue:\n";
  std::size_t n = 0;
  std::string_view t = d.transcript;
  while (!t.empty()) {
    const auto nl = t.find('\n');
    ++n;
    out << fmt::format("        {:>3}  {}\n", n, paint(o.color, "\033[2m", safe(t.substr(0, nl))));
    if (nl == std::string_view::npos) break;
    t.remove_prefix(nl + 1);
    if (n >= 400) {
      out << "        ... (" << std::count(t.begin(), t.end(), '\n') << " more lines)\n";
      break;
    }
  }
}

// Findings outside a scenario's @checks: the scenario's own verdict does
// not rest on them, and a scenario that breaks the framing on purpose
// (bare LF, NUL) can leave the engine pairing replies differently from the
// server (docs/probe.md).
void write_notes(std::ostream& out, const std::map<std::string, std::vector<std::string>>& notes,
                 const report_options& o) {
  if (notes.empty()) return;
  out << "\n"
      << paint(o.color, "\033[1m", "Also noticed") << " (findings outside the scenarios' @checks, with where):\n";
  for (const auto& [id, where] : notes) {
    const auto& rule = catalogue()[static_cast<std::size_t>(find_rule(id))];
    std::string list;
    for (std::size_t k = 0; k < where.size() && k < 4; ++k) list += (k ? ", " : "") + where[k];
    if (where.size() > 4) list += fmt::format(", and {} more", where.size() - 4);
    out << fmt::format("  {} {}: {} ({}) — {}\n", to_string(rule.lvl), id, rule.text, rule.rfc, list);
  }
}

void write_scenarios(std::ostream& out, const report& r, const report_options& o) {
  write_target(out, r, o);
  std::size_t width = 0;
  for (const auto& s : r.suites)
    for (const auto& c : s.cases) width = std::max(width, c.id.size());
  detail::case_tally all;
  std::map<std::string, std::vector<std::string>> notes;  // rule → scenarios that did not check it
  for (const auto& s : r.suites) {
    detail::case_tally t;
    for (const auto& c : s.cases) t.add(c);
    out << fmt::format("\n{} — {} {}: {} pass, {} fail, {} not applicable, {} error{}{}\n",
                       paint(o.color, "\033[1m", s.name), t.total(), t.total() == 1 ? "scenario" : "scenarios", t.pass,
                       t.fail, t.na, t.error, t.not_done ? fmt::format(", {} not done", t.not_done) : std::string(),
                       t.waived ? fmt::format(", {} waived", t.waived) : std::string());
    for (const auto& c : s.cases) {
      all.add(c);
      std::string line =
          "  " + verdict_tag(c, o) + " " + c.id + std::string(width - c.id.size() + 2, ' ') + safe(c.title);
      if (c.result == outcome::fail || c.result == outcome::not_done)
        line += c.rfc.empty() ? fmt::format("  [{}]", to_string(c.failed_level))
                              : fmt::format("  [{}, {}]", to_string(c.failed_level), c.rfc);
      if (c.eod) line += " — " + c.eod->result;
      out << line << detail::waiver_text(c.waived, c.waived_by) << "\n";
      if (c.result == outcome::not_applicable || c.result == outcome::error || c.result == outcome::not_done)
        out << "        " << paint(o.color, "\033[2m", safe(c.reason)) << "\n";
      if (c.dialogue != no_dialogue) {
        const auto& fs = r.dialogues[c.dialogue].findings;
        std::set<std::string> noted;
        for (std::size_t i = 0; i < fs.size(); ++i)
          if (std::find(c.findings.begin(), c.findings.end(), i) == c.findings.end()) noted.insert(fs[i].r().id);
        for (const auto& id : noted) notes[id].push_back(c.id);
      }
      if (c.result == outcome::fail || c.result == outcome::error || c.result == outcome::not_done)
        write_evidence(out, r, c, o);
    }
  }
  write_notes(out, notes, o);
  const bool bad = failed(r, o.fail_on);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.elapsed).count();
  const std::string took =
      ms < 1000 ? fmt::format("{} ms", ms) : fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
  std::string extra;
  if (all.not_done) extra += fmt::format(", {} not done", all.not_done);
  if (all.waived) extra += fmt::format(", {} waived", all.waived);
  out << fmt::format(
      "\n{} scenarios in {}: {} pass, {} fail ({} MUST, {} SHOULD, {} MAY){}, {} not applicable, {} error — {} (fail "
      "on {})\n",
      all.total(), took, all.pass, all.fail, all.fail_by_level[0], all.fail_by_level[1], all.fail_by_level[2], extra,
      all.na, all.error, paint(o.color, bad ? "\033[31;1m" : "\033[32;1m", bad ? "FAIL" : "PASS"),
      to_string(o.fail_on));
}

}  // namespace

void write_text(std::ostream& out, const report& r, const report_options& o) {
  if (r.kind == report_kind::scenarios) {
    write_scenarios(out, r, o);
  } else if (const report_case* rc = detail::replies_case(r)) {
    write_replay(out, r, *rc, o);
  } else {
    write_findings(out, r, o);
  }
}

}  // namespace smtpkit::conformance
