// report_sarif.cpp — the SARIF 2.1.0 report (report.hpp; OASIS SARIF v2.1.0,
// the format GitHub code scanning and other code-review tools read). One run:
// the rule catalogue (and, for probes, the scenarios) as tool.driver.rules
// with the RFC section as helpUri; one result per finding (dialogues) or per
// scenario that failed (scenarios), located at the transcript or scenario
// file and line, so a code-scanning view annotates the .smtp file. Waived
// findings are results with an external suppression and their reason;
// unreadable transcripts and scenarios that could not run are tool
// execution notifications.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "report_format.hpp"

namespace smtpkit::conformance {
namespace {

using json = nlohmann::ordered_json;
using detail::safe;

// SARIF §3.27.10: error, warning, note. ADVICE and MAY are notes.
const char* sarif_level(level l) {
  switch (l) {
    case level::must: return "error";
    case level::should: return "warning";
    case level::may:
    case level::advice: return "note";
  }
  return "note";
}

// "RFC 5321 §4.1.1.1" → the RFC Editor's page of that section.
std::string help_uri(std::string_view rfc) {
  static const std::regex section(R"(RFC\s*(\d+)(?:\s*§\s*([0-9A-Z]+(?:\.[0-9A-Z]+)*))?)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(rfc.begin(), rfc.end(), m, section)) return {};
  std::string uri = "https://www.rfc-editor.org/rfc/rfc" + m[1].str();
  if (m[2].matched) uri += "#section-" + m[2].str();
  return uri;
}

json rule_json(std::string_view id, std::string_view text, std::string_view rfc, level l, json props) {
  json r = {{"id", id},
            {"shortDescription", {{"text", safe(text)}}},
            {"fullDescription", {{"text", safe(fmt::format("{} ({})", text, rfc))}}},
            {"defaultConfiguration", {{"level", sarif_level(l)}}}};
  if (const auto uri = help_uri(rfc); !uri.empty()) r["helpUri"] = uri;
  r["help"] = {{"text", safe(fmt::format("{} — {}", rfc, text))}};
  r["properties"] = std::move(props);
  return r;
}

json location(std::string_view file, std::size_t line) {
  json region = json::object();
  if (line > 0) region["startLine"] = line;
  json physical = {{"artifactLocation", {{"uri", safe(file)}}}};
  if (!region.empty()) physical["region"] = region;
  return json::array({{{"physicalLocation", physical}}});
}

json suppression(std::string_view reason, std::string_view origin) {
  return json::array({{{"kind", "external"}, {"justification", safe(fmt::format("{} ({})", reason, origin))}}});
}

struct run_builder {
  const report& r;
  const report_options& o;
  json rules = json::array();
  json results = json::array();
  json notifications = json::array();
  std::map<std::string, std::size_t> rule_index;

  void add_catalogue() {
    for (const auto& rule : catalogue()) {
      rule_index[rule.id] = rules.size();
      rules.push_back(rule_json(rule.id, rule.text, rule.rfc, rule.lvl,
                                {{"side", std::string(to_string(rule.binds))},
                                 {"level", std::string(to_string(rule.lvl))},
                                 {"rfc", rule.rfc},
                                 {"tags", json::array({"smtp", std::string(to_string(rule.binds))})}}));
    }
  }

  std::size_t scenario_rule(const report_case& c) {
    const std::string id = c.id.substr(0, c.id.find('['));
    auto [it, added] = rule_index.emplace(id, rules.size());
    if (added)
      rules.push_back(rule_json(id, c.title, c.rfc, c.lvl,
                                {{"level", std::string(to_string(c.lvl))},
                                 {"rfc", c.rfc},
                                 {"kind", "scenario"},
                                 {"checks", c.checks},
                                 {"tags", json::array({"smtp", "scenario"})}}));
    return it->second;
  }

  void add_finding(const session_report& d, const finding& f, std::string_view file, std::size_t line) {
    const auto& rule = f.r();
    std::string text = safe(f.message);
    if (!f.excerpt.empty()) text += " — " + safe(f.excerpt);
    json res = {{"ruleId", rule.id},
                {"ruleIndex", rule_index.at(rule.id)},
                {"level", sarif_level(f.lvl())},
                {"message", {{"text", text}}},
                {"locations", location(file, line)}};
    json props = {{"side", std::string(to_string(rule.binds))},
                  {"level", std::string(to_string(f.lvl()))},
                  {"dialogue", safe(d.source)},
                  {"stream", std::string(to_string(f.anchor))},
                  {"offset", f.offset},
                  {"counts", f.counts(o.fail_on)}};
    if (f.lvl_override && *f.lvl_override != rule.lvl) {
      props["ruleLevel"] = std::string(to_string(rule.lvl));
      props["levelSetBy"] = f.level_by;
    }
    res["properties"] = props;
    if (!f.waived.empty()) res["suppressions"] = suppression(f.waived, f.waived_by);
    results.push_back(std::move(res));
  }

  void add_dialogues() {
    for (const auto& d : r.dialogues) {
      if (d.unreadable) {
        notifications.push_back({{"level", "error"},
                                 {"message", {{"text", safe(d.error.to_string())}}},
                                 {"locations", location(d.source, d.error.line)}});
        continue;
      }
      for (const auto& f : d.findings) add_finding(d, f, d.source, f.line);
    }
  }

  void add_replies(const report_case& c) {
    const std::string id = c.id;
    auto [it, added] = rule_index.emplace(id, rules.size());
    if (added)
      rules.push_back(rule_json(id, "each reply has the code of the recorded one (--exact: the same lines)",
                                "RFC 5321 §4.2", level::must, {{"kind", "replay"}}));
    for (const auto& m : c.mismatches)
      results.push_back({{"ruleId", id},
                         {"ruleIndex", it->second},
                         {"level", "error"},
                         {"message",
                          {{"text", safe(fmt::format("reply differs: expected {}, received {}", m.expected,
                                                     detail::one_line(m.received)))}}},
                         {"locations", location(c.file, m.line)}});
  }

  void add_scenario(const report_case& c) {
    if (c.result == outcome::error) {
      notifications.push_back({{"level", "error"},
                               {"message", {{"text", safe(fmt::format("{}: {}", c.id, c.reason))}}},
                               {"locations", location(c.file, 0)}});
      return;
    }
    if (c.result != outcome::fail && c.result != outcome::not_done) return;
    const std::size_t line = c.mismatches.empty() ? 0 : c.mismatches.front().line;
    json res = {{"ruleId", c.id.substr(0, c.id.find('['))},
                {"ruleIndex", scenario_rule(c)},
                {"level", c.result == outcome::not_done ? "note" : sarif_level(c.failed_level)},
                {"message", {{"text", safe(fmt::format("{}: {}", c.id, c.reason))}}},
                {"locations", location(c.file, line)}};
    json props = {{"verdict", std::string(to_string(c.result))},
                  {"level", std::string(to_string(c.failed_level))},
                  {"counts", detail::counted(c, o.fail_on)}};
    if (c.dialogue != no_dialogue) {
      json checked = json::array();
      for (std::size_t i : c.findings) {
        const auto& f = r.dialogues[c.dialogue].findings[i];
        checked.push_back(safe(fmt::format("dialogue:{}: {} {}: {}", f.line, to_string(f.lvl()), f.r().id, f.message)));
      }
      props["findings"] = checked;
    }
    res["properties"] = props;
    if (!c.waived.empty()) res["suppressions"] = suppression(c.waived, c.waived_by);
    results.push_back(std::move(res));
  }

  json build() {
    add_catalogue();
    if (r.kind == report_kind::scenarios) {
      for (const auto& s : r.suites)
        for (const auto& c : s.cases) add_scenario(c);
    } else {
      add_dialogues();
      if (const report_case* rc = detail::replies_case(r)) add_replies(*rc);
    }
    json driver = {{"name", "smtpkit"}, {"semanticVersion", "0.1.0"}, {"fullName", r.tool}, {"rules", rules}};
    json invocation = {{"executionSuccessful", notifications.empty() && !r.target.unreachable}};
    if (!notifications.empty()) invocation["toolExecutionNotifications"] = notifications;
    json props = {{"failOn", std::string(to_string(o.fail_on))}, {"verdict", failed(r, o.fail_on) ? "fail" : "pass"}};
    if (!r.target.name.empty()) props["target"] = safe(r.target.name);
    if (!r.policy_file.empty()) props["policy"] = r.policy_file;
    invocation["properties"] = props;
    return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
            {"version", "2.1.0"},
            {"runs", json::array({{{"tool", {{"driver", driver}}},
                                   {"invocations", json::array({invocation})},
                                   {"columnKind", "unicodeCodePoints"},
                                   {"results", results}}})}};
  }
};

}  // namespace

void write_sarif(std::ostream& out, const report& r, const report_options& o) {
  run_builder b{r, o};
  out << b.build().dump(2) << "\n";
}

}  // namespace smtpkit::conformance
