// probe_report.cpp — reports of `smtpkit probe server`: text grouped by
// scenario group with counts (colour on a terminal, decided by the caller),
// JSON (schema in docs/probe.md), JUnit XML (one <testsuite> per group, one
// <testcase> per scenario: <failure>, <skipped> for not applicable, <error>).
// Every failure and error carries its dialogue.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "smtpkit/conformance/report.hpp"
#include "smtpkit/utf8.hpp"
#include "smtpkit/mock/probe.hpp"

namespace smtpkit::mock {
namespace {

using json = nlohmann::ordered_json;
using conformance::level;

std::string safe(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  std::string out;
  for (unsigned char c : s) out.push_back(c < 0x80 ? static_cast<char>(c) : '?');
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

struct counts_t {
  std::size_t pass = 0, fail = 0, na = 0, error = 0;
  std::size_t fail_by_level[4] = {0, 0, 0, 0};
  void add(const scenario_result& s) {
    switch (s.v) {
      case verdict::pass: ++pass; break;
      case verdict::fail:
        ++fail;
        ++fail_by_level[static_cast<int>(s.failed_level)];
        break;
      case verdict::not_applicable: ++na; break;
      case verdict::error: ++error; break;
    }
  }
  [[nodiscard]] std::size_t total() const { return pass + fail + na + error; }
};

// Groups in the order their first scenario appears.
std::vector<std::pair<std::string, std::vector<const scenario_result*>>> grouped(const probe_report& r) {
  std::vector<std::pair<std::string, std::vector<const scenario_result*>>> out;
  for (const auto& s : r.results) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == s.group; });
    if (it == out.end()) {
      out.push_back({s.group, {}});
      it = out.end() - 1;
    }
    it->second.push_back(&s);
  }
  return out;
}

bool shows_dialogue(const scenario_result& s) { return s.v == verdict::fail || s.v == verdict::error; }

std::string outcome_text(const scenario_result& s) {
  if (!s.run.smuggle) return {};
  return std::string(to_string(s.run.smuggle->outcome));
}

}  // namespace

void write_probe_text(std::ostream& out, const probe_report& r, const probe_report_options& o) {
  auto paint = [&](const char* code, std::string_view s) {
    if (!o.color) return std::string(s);
    return std::string(code) + std::string(s) + "\033[0m";
  };
  out << paint("\033[1m", o.tool + " " + r.target) << "\n";
  if (!r.greeting.empty()) out << "  greeting:   " << safe(r.greeting) << "\n";
  if (!r.ehlo.empty()) {
    std::string e;
    for (const auto& k : r.ehlo) {
      if (!e.empty()) e += ", ";
      e += k;
    }
    out << "  advertised: " << safe(e) << "\n";
  }
  if (!r.tls.empty()) out << "  TLS:        " << r.tls << "\n";
  if (r.unreachable) out << paint("\033[35;1m", "  unreachable: " + r.unreachable_reason) << "\n";

  std::size_t width = 0;
  for (const auto& s : r.results) width = std::max(width, s.id.size());
  counts_t all;
  std::map<std::string, std::vector<std::string>> notes;  // rule → scenarios that did not check it
  for (const auto& [group, list] : grouped(r)) {
    counts_t c;
    for (const auto* s : list) c.add(*s);
    out << "\n" << paint("\033[1m", group) << " — " << c.total() << (c.total() == 1 ? " scenario: " : " scenarios: ") << c.pass
        << " pass, " << c.fail << " fail, " << c.na << " not applicable, " << c.error << " error\n";
    for (const auto* s : list) {
      all.add(*s);
      std::string tag;
      switch (s->v) {
        case verdict::pass: tag = paint("\033[32m", "pass "); break;
        case verdict::fail: {
          const char* colour = s->failed_level == level::must ? "\033[31;1m" : s->failed_level == level::should ? "\033[33;1m" : "\033[36m";
          tag = paint(colour, "FAIL ");
          break;
        }
        case verdict::not_applicable: tag = paint("\033[2m", "n/a  "); break;
        case verdict::error: tag = paint("\033[35;1m", "ERROR"); break;
      }
      std::string line = "  " + tag + " " + s->id + std::string(width - s->id.size() + 2, ' ') + safe(s->title);
      if (s->v == verdict::fail) line += "  [" + std::string(to_string(s->failed_level)) + ", " + s->rfc + "]";
      if (!outcome_text(*s).empty()) line += " — " + outcome_text(*s);
      out << line << "\n";
      if (s->v == verdict::not_applicable || s->v == verdict::error) out << "        " << paint("\033[2m", safe(s->reason)) << "\n";
      std::set<std::string> noted;
      for (std::size_t i = 0; i < s->run.report.findings.size(); ++i)
        if (std::find(s->checked.begin(), s->checked.end(), i) == s->checked.end()) noted.insert(s->run.report.findings[i].r().id);
      for (const auto& id : noted) notes[id].push_back(s->id);
      if (!shows_dialogue(*s)) continue;
      for (const auto& e : s->run.expectations) {
        if (e.ok) continue;
        std::string got = e.received;
        for (auto& ch : got)
          if (ch == '\n') ch = '/';
        std::string exp = e.expected;
        for (auto& ch : exp)
          if (ch == '\n') ch = '/';
        out << "        " << s->file << ":" << e.line << ": expected " << safe(exp) << ", received " << safe(got) << "\n";
      }
      for (std::size_t i : s->checked) {
        const auto& f = s->run.report.findings[i];
        out << "        dialogue:" << f.line << ": " << paint(f.r().lvl == level::must ? "\033[31m" : "\033[33m", std::string(to_string(f.r().lvl)))
            << " " << f.r().id << ": " << safe(f.message) << " (" << f.r().rfc << ")\n";
      }
      out << "        dialogue:\n";
      std::size_t n = 0;
      std::string_view t = s->run.transcript;
      while (!t.empty()) {
        auto nl = t.find('\n');
        std::string_view l = t.substr(0, nl);
        ++n;
        out << "        " << (n < 10 ? "  " : n < 100 ? " " : "") << n << "  " << paint("\033[2m", safe(l)) << "\n";
        if (nl == std::string_view::npos) break;
        t.remove_prefix(nl + 1);
        if (n >= 400) {
          out << "        ... (" << std::count(t.begin(), t.end(), '\n') << " more lines)\n";
          break;
        }
      }
    }
  }
  if (!notes.empty()) {
    // Findings outside a scenario's @checks: the scenario's own verdict does
    // not rest on them, and a scenario that breaks the framing on purpose
    // (bare LF, NUL) can leave the engine pairing replies differently from
    // the server (docs/probe.md).
    out << "\n" << paint("\033[1m", "Also noticed") << " (findings outside the scenarios' @checks, with where):\n";
    for (const auto& [id, where] : notes) {
      int i = conformance::find_rule(id);
      const auto& rule = conformance::catalogue()[static_cast<std::size_t>(i)];
      std::string list;
      for (std::size_t k = 0; k < where.size() && k < 4; ++k) {
        if (k) list += ", ";
        list += where[k];
      }
      if (where.size() > 4) list += ", and " + std::to_string(where.size() - 4) + " more";
      out << "  " << to_string(rule.lvl) << " " << id << ": " << rule.text << " (" << rule.rfc << ") — " << list << "\n";
    }
  }
  const bool bad = failed(r, o.fail_on);
  char secs[32];
  if (r.elapsed.count() < 1000)
    std::snprintf(secs, sizeof secs, "%lld ms", static_cast<long long>(r.elapsed.count()));
  else
    std::snprintf(secs, sizeof secs, "%.1f s", static_cast<double>(r.elapsed.count()) / 1000.0);
  out << "\n" << all.total() << " scenarios in " << secs << ": " << all.pass << " pass, " << all.fail << " fail (" << all.fail_by_level[0]
      << " MUST, " << all.fail_by_level[1] << " SHOULD, " << all.fail_by_level[2] << " MAY), " << all.na << " not applicable, "
      << all.error << " error — " << paint(bad ? "\033[31;1m" : "\033[32;1m", bad ? "FAIL" : "PASS") << " (fail on "
      << to_string(o.fail_on) << ")\n";
}

void write_probe_json(std::ostream& out, const probe_report& r, const probe_report_options& o) {
  json doc;
  doc["tool"] = o.tool;
  doc["schema"] = 1;
  doc["target"] = safe(r.target);
  doc["greeting"] = safe(r.greeting);
  json ehlo = json::array();
  for (const auto& k : r.ehlo) ehlo.push_back(safe(k));
  doc["ehlo"] = ehlo;
  doc["tls"] = r.tls;
  doc["fail_on"] = std::string(to_string(o.fail_on));
  doc["verdict"] = r.unreachable ? "error" : failed(r, o.fail_on) ? "fail" : "pass";
  if (r.unreachable) doc["error"] = safe(r.unreachable_reason);
  doc["elapsed_ms"] = r.elapsed.count();
  counts_t all;
  json list = json::array();
  for (const auto& s : r.results) {
    all.add(s);
    json js;
    js["id"] = s.id;
    js["title"] = safe(s.title);
    js["group"] = s.group;
    js["file"] = s.file;
    js["level"] = std::string(to_string(s.level));
    js["rfc"] = s.rfc;
    js["checks"] = s.checks;
    js["verdict"] = std::string(to_string(s.v));
    if (s.v == verdict::fail) {
      js["failed_level"] = std::string(to_string(s.failed_level));
      js["counts"] = conformance::counts(s.failed_level, o.fail_on);
    }
    js["reason"] = safe(s.reason);
    if (s.run.smuggle) {
      const auto& sm = *s.run.smuggle;
      json codes = json::array();
      for (auto c : sm.codes) codes.push_back(c);
      js["outcome"] = {{"kind", "end-of-data"}, {"variant", sm.variant}, {"result", std::string(to_string(sm.outcome))},
                       {"replies", codes}, {"detail", safe(sm.detail)}};
    }
    json ex = json::array();
    for (const auto& e : s.run.expectations)
      if (!e.ok) ex.push_back({{"line", e.line}, {"expected", safe(e.expected)}, {"received", safe(e.received)}});
    js["mismatches"] = ex;
    json fs = json::array();
    for (std::size_t i = 0; i < s.run.report.findings.size(); ++i) {
      const auto& f = s.run.report.findings[i];
      const auto& rule = f.r();
      fs.push_back({{"rule", rule.id},
                    {"level", std::string(to_string(rule.lvl))},
                    {"rfc", rule.rfc},
                    {"line", f.line},
                    {"message", safe(f.message)},
                    {"excerpt", safe(f.excerpt)},
                    {"checked", std::find(s.checked.begin(), s.checked.end(), i) != s.checked.end()}});
    }
    js["findings"] = fs;
    if (!s.run.tls.empty()) js["tls"] = s.run.tls;
    js["elapsed_ms"] = s.run.elapsed.count();
    js["dialogue"] = shows_dialogue(s) ? json(safe(s.run.transcript)) : json(nullptr);
    list.push_back(js);
  }
  doc["summary"] = {{"scenarios", all.total()},
                    {"pass", all.pass},
                    {"fail", all.fail},
                    {"fail_must", all.fail_by_level[0]},
                    {"fail_should", all.fail_by_level[1]},
                    {"fail_may", all.fail_by_level[2]},
                    {"not_applicable", all.na},
                    {"error", all.error}};
  doc["scenarios"] = list;
  out << doc.dump(2) << "\n";
}

void write_probe_junit(std::ostream& out, const probe_report& r, const probe_report_options& o) {
  using conformance::xml_escape;
  std::string body;
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  for (const auto& [group, list] : grouped(r)) {
    std::size_t f = 0, e = 0, sk = 0;
    std::string cases;
    for (const auto* s : list) {
      const double secs = static_cast<double>(s->run.elapsed.count()) / 1000.0;
      char t[32];
      std::snprintf(t, sizeof t, "%.3f", secs);
      cases += "    <testcase name=\"" + xml_escape(s->id) + "\" classname=\"smtpkit.probe." + xml_escape(lower(group)) +
               "\" time=\"" + t + "\"";
      const bool counted = s->v == verdict::fail && conformance::counts(s->failed_level, o.fail_on);
      if (s->v == verdict::pass) {
        cases += "/>\n";
        continue;
      }
      cases += ">\n";
      std::string detail = s->title + "\n" + s->reason + "\n";
      for (const auto& ex : s->run.expectations)
        if (!ex.ok) detail += s->file + ":" + std::to_string(ex.line) + ": expected " + ex.expected + ", received " + ex.received + "\n";
      for (std::size_t i : s->checked) {
        const auto& fd = s->run.report.findings[i];
        detail += "dialogue:" + std::to_string(fd.line) + ": " + std::string(to_string(fd.r().lvl)) + " " + fd.r().id + ": " +
                  fd.message + " (" + fd.r().rfc + ")\n";
      }
      if (s->v == verdict::not_applicable) {
        ++sk;
        cases += "      <skipped message=\"" + xml_escape(s->reason) + "\"/>\n";
      } else if (s->v == verdict::error) {
        ++e;
        cases += "      <error message=\"" + xml_escape(s->reason) + "\" type=\"error\">" + xml_escape(detail) + "</error>\n";
        cases += "      <system-out>" + xml_escape(s->run.transcript) + "</system-out>\n";
      } else if (counted) {
        ++f;
        cases += "      <failure message=\"" + xml_escape(s->reason) + "\" type=\"" + std::string(to_string(s->failed_level)) +
                 "\">" + xml_escape(detail) + "</failure>\n";
        cases += "      <system-out>" + xml_escape(s->run.transcript) + "</system-out>\n";
      } else {
        // A failure below --fail-on: reported, not failing the build.
        cases += "      <system-out>" + xml_escape("FAIL (" + std::string(to_string(s->failed_level)) + ", below --fail-on): " + detail) +
                 xml_escape(s->run.transcript) + "</system-out>\n";
      }
      cases += "    </testcase>\n";
    }
    tests += list.size();
    failures += f;
    errors += e;
    skipped += sk;
    body += "  <testsuite name=\"" + xml_escape(group) + "\" tests=\"" + std::to_string(list.size()) + "\" failures=\"" +
            std::to_string(f) + "\" errors=\"" + std::to_string(e) + "\" skipped=\"" + std::to_string(sk) + "\" time=\"0\">\n" + cases +
            "  </testsuite>\n";
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"" << xml_escape(o.tool + " " + r.target) << "\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\""
      << static_cast<double>(r.elapsed.count()) / 1000.0 << "\">\n"
      << body << "</testsuites>\n";
}

}  // namespace smtpkit::mock
