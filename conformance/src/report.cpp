// report.cpp — text, JSON and JUnit XML reports of conformance findings.
#include "smtpkit/conformance/report.hpp"

#include <map>
#include <nlohmann/json.hpp>

#include "smtpkit/utf8.hpp"

namespace smtpkit::conformance {
namespace {

using json = nlohmann::ordered_json;

const char* colour_of(level l) {
  switch (l) {
    case level::must: return "\033[31m";
    case level::should: return "\033[33m";
    case level::may: return "\033[36m";
    case level::advice: return "\033[2m";
  }
  return "";
}

std::string safe(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  std::string out;
  for (unsigned char c : s) out.push_back(c < 0x80 ? static_cast<char>(c) : '?');
  return out;
}

struct tally {
  std::size_t by_level[4] = {0, 0, 0, 0};
  std::size_t counted = 0;
};

tally count(const session_report& s, level fail_on) {
  tally t;
  for (const auto& f : s.findings) {
    auto l = f.r().lvl;
    ++t.by_level[static_cast<int>(l)];
    if (counts(l, fail_on)) ++t.counted;
  }
  return t;
}

}  // namespace

bool failed(const std::vector<session_report>& sessions, level fail_on) {
  for (const auto& s : sessions) {
    if (s.unreadable) return true;
    if (count(s, fail_on).counted) return true;
  }
  return false;
}

std::string xml_escape(std::string_view in) {
  std::string s = safe(in);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    // U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters.
    if (c == '\xEF' && i + 2 < s.size() && s[i + 1] == '\xBF' && (s[i + 2] == '\xBE' || s[i + 2] == '\xBF')) {
      out += '?';
      i += 2;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most C0 controls even as references.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

void write_text(std::ostream& out, const std::vector<session_report>& sessions, const report_options& o) {
  auto paint = [&](const char* code, std::string_view s) {
    if (!o.color) return std::string(s);
    return std::string(code) + std::string(s) + "\033[0m";
  };
  std::size_t total[4] = {0, 0, 0, 0};
  std::size_t failing_sessions = 0;
  for (const auto& s : sessions) {
    if (s.unreadable) {
      out << paint("\033[31m", s.error.to_string()) << "\n";
      ++failing_sessions;
      continue;
    }
    tally t = count(s, o.fail_on);
    for (int i = 0; i < 4; ++i) total[i] += t.by_level[i];
    if (t.counted) ++failing_sessions;
    // Each finding starts its line with file:line, as compilers do, so
    // editors and CI log parsers jump to it; the excerpt is indented below.
    for (const auto& f : s.findings) {
      const auto& r = f.r();
      out << s.source << ":" << f.line << ": " << to_string(r.binds) << " " << paint(colour_of(r.lvl), to_string(r.lvl))
          << " " << r.id << ": " << safe(f.message) << " (" << r.rfc << ")\n";
      if (!f.excerpt.empty()) out << "    " << paint("\033[2m", safe(f.excerpt)) << "\n";
    }
    for (const auto& [rule, n] : s.suppressed)
      out << s.source << ": " << n << " more " << catalogue()[static_cast<std::size_t>(rule)].id << " not shown\n";
  }
  out << sessions.size() << (sessions.size() == 1 ? " dialogue" : " dialogues") << ": " << total[0] << " MUST, "
      << total[1] << " SHOULD, " << total[2] << " MAY, " << total[3] << " advice";
  const bool bad = failed(sessions, o.fail_on);
  std::string verdict = bad ? "FAIL" : "PASS";
  out << " — " << paint(bad ? "\033[31;1m" : "\033[32;1m", verdict) << " (fail on " << to_string(o.fail_on) << ", "
      << failing_sessions << " failing)\n";
}

void write_json(std::ostream& out, const std::vector<session_report>& sessions, const report_options& o) {
  json doc;
  doc["tool"] = o.tool;
  doc["schema"] = 1;
  doc["fail_on"] = std::string(to_string(o.fail_on));
  doc["verdict"] = failed(sessions, o.fail_on) ? "fail" : "pass";
  std::size_t total[4] = {0, 0, 0, 0};
  json list = json::array();
  for (const auto& s : sessions) {
    json js;
    js["source"] = safe(s.source);
    if (s.unreadable) {
      js["error"] = {{"line", s.error.line}, {"column", s.error.column}, {"message", safe(s.error.message)}};
      js["verdict"] = "error";
      list.push_back(js);
      continue;
    }
    js["records"] = s.records;
    js["octets"] = {{"client", s.client_bytes}, {"server", s.server_bytes}};
    json fs = json::array();
    for (const auto& f : s.findings) {
      const auto& r = f.r();
      ++total[static_cast<int>(r.lvl)];
      fs.push_back({{"rule", r.id},
                    {"side", std::string(to_string(r.binds))},
                    {"level", std::string(to_string(r.lvl))},
                    {"rfc", r.rfc},
                    {"line", f.line},
                    {"offset", f.offset},
                    {"stream", std::string(to_string(f.anchor))},
                    {"message", safe(f.message)},
                    {"excerpt", safe(f.excerpt)},
                    {"counts", counts(r.lvl, o.fail_on)}});
    }
    js["findings"] = fs;
    json applied = json::array();
    for (int i : s.applied) applied.push_back(catalogue()[static_cast<std::size_t>(i)].id);
    js["applied"] = applied;
    json sup = json::object();
    for (const auto& [rule, n] : s.suppressed) sup[catalogue()[static_cast<std::size_t>(rule)].id] = n;
    js["suppressed"] = sup;
    js["verdict"] = count(s, o.fail_on).counted ? "fail" : "pass";
    list.push_back(js);
  }
  doc["summary"] = {{"dialogues", sessions.size()},
                    {"MUST", total[0]},
                    {"SHOULD", total[1]},
                    {"MAY", total[2]},
                    {"ADVICE", total[3]}};
  doc["dialogues"] = list;
  out << doc.dump(2) << "\n";
}

void write_junit(std::ostream& out, const std::vector<session_report>& sessions, const report_options& o) {
  struct testcase {
    std::string name;
    std::string classname;
    std::vector<const finding*> failures;
    std::vector<const finding*> notes;  // below --fail-on
  };
  std::size_t all_tests = 0;
  std::size_t all_failures = 0;
  std::size_t all_errors = 0;
  std::string body;
  for (const auto& s : sessions) {
    std::vector<testcase> cases;
    std::map<std::string, std::size_t> by_name;
    auto get = [&](const std::string& name, side who) -> testcase& {
      auto it = by_name.find(name);
      if (it != by_name.end()) return cases[it->second];
      by_name[name] = cases.size();
      cases.push_back({name, "smtpkit." + std::string(to_string(who)), {}, {}});
      return cases.back();
    };
    std::string suite = "  <testsuite name=\"" + xml_escape(s.source) + "\"";
    if (s.unreadable) {
      ++all_errors;
      ++all_tests;
      body += suite + " tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\">\n";
      body += "    <testcase name=\"read\" classname=\"smtpkit.transcript\" time=\"0\">\n";
      body += "      <error message=\"" + xml_escape(s.error.to_string()) + "\" type=\"unreadable\"/>\n";
      body += "    </testcase>\n  </testsuite>\n";
      continue;
    }
    // Grammar rules fold into one test per side; the rest are one test each.
    if (s.client_bytes) get("client.grammar", side::client);
    if (s.server_bytes) get("server.grammar", side::server);
    for (int i : s.applied) {
      const auto& r = catalogue()[static_cast<std::size_t>(i)];
      if (r.family == rule_family::grammar) continue;
      get(r.id, r.binds);
    }
    for (const auto& f : s.findings) {
      const auto& r = f.r();
      testcase& tc = r.family == rule_family::grammar ? get(std::string(to_string(r.binds)) + ".grammar", r.binds)
                                                      : get(r.id, r.binds);
      (counts(r.lvl, o.fail_on) ? tc.failures : tc.notes).push_back(&f);
    }
    std::size_t failures = 0;
    for (const auto& c : cases) failures += c.failures.empty() ? 0 : 1;
    all_tests += cases.size();
    all_failures += failures;
    body += suite + " tests=\"" + std::to_string(cases.size()) + "\" failures=\"" + std::to_string(failures) +
            "\" errors=\"0\" skipped=\"0\" time=\"0\">\n";
    for (const auto& c : cases) {
      body += "    <testcase name=\"" + xml_escape(c.name) + "\" classname=\"" + xml_escape(c.classname) + "\" time=\"0\"";
      if (c.failures.empty() && c.notes.empty()) {
        body += "/>\n";
        continue;
      }
      body += ">\n";
      if (!c.failures.empty()) {
        const finding& f0 = *c.failures.front();
        std::string msg = s.source + ":" + std::to_string(f0.line) + ": " + f0.r().id + ": " + f0.message;
        body += "      <failure message=\"" + xml_escape(msg) + "\" type=\"" + std::string(to_string(f0.r().lvl)) + "\">";
        for (const finding* f : c.failures)
          body += xml_escape(s.source + ":" + std::to_string(f->line) + ": " + std::string(to_string(f->r().lvl)) + " " +
                             f->r().id + ": " + f->message + " (" + f->r().rfc + ")" +
                             (f->excerpt.empty() ? "" : "\n    " + f->excerpt)) +
                  "\n";
        body += "</failure>\n";
      }
      if (!c.notes.empty()) {
        body += "      <system-out>";
        for (const finding* f : c.notes)
          body += xml_escape(s.source + ":" + std::to_string(f->line) + ": " + std::string(to_string(f->r().lvl)) + " " +
                             f->r().id + ": " + f->message) +
                  "\n";
        body += "</system-out>\n";
      }
      body += "    </testcase>\n";
    }
    body += "  </testsuite>\n";
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"" << xml_escape(o.tool) << "\" tests=\"" << all_tests << "\" failures=\"" << all_failures
      << "\" errors=\"" << all_errors << "\" time=\"0\">\n"
      << body << "</testsuites>\n";
}

}  // namespace smtpkit::conformance
