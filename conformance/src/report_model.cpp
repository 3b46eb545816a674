// report_model.cpp — the report model (report.hpp): the dialogues report
// that `check` and `replay` build, verdicts against --fail-on, and the
// pieces every writer formats the same way (report_format.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "report_format.hpp"
#include "smtpkit/utf8.hpp"

namespace smtpkit::conformance {

std::string_view to_string(outcome o) noexcept {
  switch (o) {
    case outcome::pass: return "pass";
    case outcome::fail: return "fail";
    case outcome::not_applicable: return "not-applicable";
    case outcome::error: return "error";
    case outcome::not_done: return "not-done";
  }
  return "?";
}

void settle(report_case& c, const session_report& d) {
  c.result = c.played;
  c.reason = c.played_reason;
  c.failed_level = c.lvl;
  // The findings of the rules it checks decide too: not advice, not waived.
  const finding* first = nullptr;
  level strictest = level::advice;
  for (std::size_t i : c.findings) {
    const finding& f = d.findings[i];
    if (!f.waived.empty() || f.lvl() == level::advice) continue;
    if (first == nullptr) first = &f;
    if (static_cast<int>(f.lvl()) < static_cast<int>(strictest)) strictest = f.lvl();
  }
  if (first != nullptr && (c.result == outcome::pass || c.result == outcome::fail)) {
    // The rule says why better than the reply that came instead (which is
    // often a consequence: an injected command's reply taken for EHLO's);
    // an end-of-data probe's own account says more still.
    if (!c.eod) c.reason = first->r().id + ": " + first->message;
    if (c.result == outcome::pass || static_cast<int>(strictest) < static_cast<int>(c.failed_level))
      c.failed_level = strictest;
    c.result = outcome::fail;
  }
  if (c.result == outcome::pass && c.eod) c.reason = c.eod->result + ": " + c.eod->detail;
  // RFC 2119 §5: MAY is truly optional; an implementation without it is
  // not at fault.
  if (c.result == outcome::fail && c.failed_level == level::may) c.result = outcome::not_done;
}

namespace detail {

std::string safe(std::string_view s) {
  if (smtpkit::valid_utf8(s)) return std::string(s);
  std::string out;
  for (unsigned char c : s) out.push_back(c < 0x80 ? static_cast<char>(c) : '?');
  return out;
}

tally count(const session_report& s, level fail_on) {
  tally t;
  for (const auto& f : s.findings) {
    if (!f.waived.empty()) {
      ++t.waived;
      continue;
    }
    t.add(f.lvl(), fail_on);
  }
  return t;
}

void case_tally::add(const report_case& c) noexcept {
  switch (c.result) {
    case outcome::pass: ++pass; break;
    case outcome::fail:
      if (!c.waived.empty()) {
        ++waived;
        break;
      }
      ++fail;
      ++fail_by_level[static_cast<int>(c.failed_level)];
      break;
    case outcome::not_applicable: ++na; break;
    case outcome::error: ++error; break;
    case outcome::not_done: ++not_done; break;
  }
}

bool counted(const report_case& c, level fail_on) noexcept {
  return c.result == outcome::fail && c.waived.empty() && counts(c.failed_level, fail_on);
}

const report_case* replies_case(const report& r) noexcept {
  for (const auto& s : r.suites)
    for (const auto& c : s.cases)
      if (c.kind == case_kind::replies) return &c;
  return nullptr;
}

const char* colour_of(level l) noexcept {
  switch (l) {
    case level::must: return "\033[31m";
    case level::should: return "\033[33m";
    case level::may: return "\033[36m";
    case level::advice: return "\033[2m";
  }
  return "";
}

std::string paint(bool on, std::string_view colour, std::string_view s) {
  if (!on) return std::string(s);
  return fmt::format("{}{}\033[0m", colour, s);
}

std::string finding_line(std::string_view where, const finding& f, std::string_view level_text) {
  const auto& r = f.r();
  return fmt::format("{}: {} {}: {} ({})", where, level_text.empty() ? detail::level_text(f) : std::string(level_text),
                     r.id, f.message, r.rfc);
}

std::string level_text(const finding& f) {
  if (!f.lvl_override || *f.lvl_override == f.r().lvl) return std::string(to_string(f.lvl()));
  return fmt::format("{} ({}, level set by {})", to_string(f.lvl()), to_string(f.r().lvl), f.level_by);
}

std::string waiver_text(std::string_view reason, std::string_view origin) {
  if (reason.empty()) return {};
  return fmt::format(" [waived: {} — {}]", reason, origin);
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', '/');
  return s;
}

std::string seconds(std::chrono::microseconds t) { return fmt::format("{:.3f}", static_cast<double>(t.count()) / 1e6); }

}  // namespace detail

report dialogues_report(std::vector<session_report> sessions, std::string tool) {
  report out;
  out.kind = report_kind::dialogues;
  out.tool = std::move(tool);
  out.dialogues = std::move(sessions);
  for (std::size_t d = 0; d < out.dialogues.size(); ++d) {
    const session_report& s = out.dialogues[d];
    report_suite suite;
    suite.name = s.source;
    suite.dialogue = d;
    suite.elapsed = s.elapsed;
    out.elapsed += s.elapsed;
    if (!s.unreadable) {
      // Grammar rules fold into one case per side; the rest are one case each.
      std::map<std::string, std::size_t> by_id;
      auto get = [&](const std::string& id, side who) -> report_case& {
        auto [it, added] = by_id.emplace(id, suite.cases.size());
        if (added) {
          report_case c;
          c.kind = case_kind::rule;
          c.id = id;
          c.classname = "smtpkit." + std::string(to_string(who));
          c.file = s.source;
          c.dialogue = d;
          suite.cases.push_back(std::move(c));
        }
        return suite.cases[it->second];
      };
      auto grammar_case = [](side who) { return std::string(to_string(who)) + ".grammar"; };
      if (s.client_bytes) get(grammar_case(side::client), side::client);
      if (s.server_bytes) get(grammar_case(side::server), side::server);
      for (int i : s.applied) {
        const auto& r = catalogue()[static_cast<std::size_t>(i)];
        if (r.family != rule_family::grammar) get(r.id, r.binds);
      }
      for (std::size_t k = 0; k < s.findings.size(); ++k) {
        const auto& r = s.findings[k].r();
        report_case& c = r.family == rule_family::grammar ? get(grammar_case(r.binds), r.binds) : get(r.id, r.binds);
        c.findings.push_back(k);
        c.result = outcome::fail;
      }
    }
    out.suites.push_back(std::move(suite));
  }
  return out;
}

bool failed(const report& r, level fail_on) {
  if (r.target.unreachable) return true;
  // A scenario's verdict already weighs the findings it rests on; the
  // others of its dialogue are notes.
  if (r.kind == report_kind::dialogues)
    for (const auto& s : r.dialogues)
      if (s.unreadable || detail::count(s, fail_on).counted) return true;
  for (const auto& suite : r.suites)
    for (const auto& c : suite.cases) {
      switch (c.kind) {
        case case_kind::rule: break;  // its findings are counted above
        case case_kind::scenario:
          if (c.result == outcome::error || detail::counted(c, fail_on)) return true;
          break;
        case case_kind::replies:
          if (!c.mismatches.empty() || c.result == outcome::error) return true;
          break;
      }
    }
  return false;
}

}  // namespace smtpkit::conformance
