// report_json.cpp — the JSON report (report.hpp), one document per run:
// dialogues and their findings (schema in docs/reports.md), with a replay's
// comparison of replies; or scenarios and their verdicts (docs/probe.md).
// `schema` is 1: fields are added, never renamed or removed.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "report_format.hpp"
#include "report_json.hpp"

namespace smtpkit::conformance {
namespace {

using json = nlohmann::ordered_json;
using detail::safe;

// What a policy did to a finding: the rule's own level beside the one it
// counts at, and the waiver that keeps it from counting.
void add_policy(json& jf, const finding& f) {
  if (f.lvl_override && *f.lvl_override != f.r().lvl) {
    jf["rule_level"] = std::string(to_string(f.r().lvl));
    jf["level_set_by"] = f.level_by;
  }
  if (!f.waived.empty()) jf["waived"] = {{"reason", safe(f.waived)}, {"by", f.waived_by}};
}

json dialogue_json(const session_report& s, const report_options& o) {
  json js;
  js["source"] = safe(s.source);
  if (s.unreadable) {
    js["error"] = {{"line", s.error.line}, {"column", s.error.column}, {"message", safe(s.error.message)}};
    js["verdict"] = "error";
    return js;
  }
  js["records"] = s.records;
  js["octets"] = {{"client", s.client_bytes}, {"server", s.server_bytes}};
  json fs = json::array();
  for (const auto& f : s.findings) {
    const auto& r = f.r();
    json jf = {{"rule", r.id},
               {"side", std::string(to_string(r.binds))},
               {"level", std::string(to_string(f.lvl()))},
               {"rfc", r.rfc},
               {"line", f.line},
               {"offset", f.offset},
               {"stream", std::string(to_string(f.anchor))},
               {"message", safe(f.message)},
               {"excerpt", safe(f.excerpt)},
               {"counts", f.counts(o.fail_on)}};
    add_policy(jf, f);
    fs.push_back(std::move(jf));
  }
  js["findings"] = fs;
  json applied = json::array();
  for (int i : s.applied) applied.push_back(catalogue()[static_cast<std::size_t>(i)].id);
  js["applied"] = applied;
  json sup = json::object();
  for (const auto& [rule, n] : s.suppressed) sup[catalogue()[static_cast<std::size_t>(rule)].id] = n;
  js["suppressed"] = sup;
  js["verdict"] = detail::count(s, o.fail_on).counted ? "fail" : "pass";
  return js;
}

json replay_json(const report& r, const report_case& c) {
  json diffs = json::array();
  for (const auto& m : c.mismatches)
    diffs.push_back({{"line", m.line}, {"expected", m.expected}, {"received", m.received}});
  return {{"transcript", c.file}, {"status", std::string(to_string(c.result))},
          {"reason", c.reason},   {"replies_compared", c.compared},
          {"differences", diffs}, {"dialogue", r.dialogues.at(c.dialogue).transcript}};
}

void write_dialogues(json& doc, const report& r, const report_options& o) {
  detail::tally total;
  json list = json::array();
  for (const auto& s : r.dialogues) {
    if (!s.unreadable) {
      const auto t = detail::count(s, o.fail_on);
      for (int i = 0; i < 4; ++i) total.by_level[i] += t.by_level[i];
      total.waived += t.waived;
    }
    list.push_back(dialogue_json(s, o));
  }
  doc["summary"] = {{"dialogues", r.dialogues.size()}, {"MUST", total.by_level[0]},   {"SHOULD", total.by_level[1]},
                    {"MAY", total.by_level[2]},        {"ADVICE", total.by_level[3]}, {"waived", total.waived}};
  doc["dialogues"] = list;
  if (const report_case* rc = detail::replies_case(r)) doc["replay"] = replay_json(r, *rc);
}

json scenario_json(const report& r, const std::string& group, const report_case& c, const report_options& o) {
  json js;
  js["id"] = c.id;
  js["title"] = safe(c.title);
  js["group"] = group;
  js["file"] = c.file;
  js["level"] = std::string(to_string(c.lvl));
  js["rfc"] = c.rfc;
  js["checks"] = c.checks;
  js["verdict"] = std::string(to_string(c.result));
  if (c.result == outcome::fail || c.result == outcome::not_done) {
    js["failed_level"] = std::string(to_string(c.failed_level));
    js["counts"] = detail::counted(c, o.fail_on);
  }
  if (!c.waived.empty()) js["waived"] = {{"reason", safe(c.waived)}, {"by", c.waived_by}};
  js["reason"] = safe(c.reason);
  if (c.eod) {
    json codes = json::array();
    for (auto code : c.eod->codes) codes.push_back(code);
    js["outcome"] = {{"kind", "end-of-data"},
                     {"variant", c.eod->variant},
                     {"result", c.eod->result},
                     {"replies", codes},
                     {"detail", safe(c.eod->detail)}};
  }
  json ex = json::array();
  for (const auto& m : c.mismatches)
    ex.push_back({{"line", m.line}, {"expected", safe(m.expected)}, {"received", safe(m.received)}});
  js["mismatches"] = ex;
  json fs = json::array();
  const session_report* d = c.dialogue == no_dialogue ? nullptr : &r.dialogues[c.dialogue];
  if (d != nullptr)
    for (std::size_t i = 0; i < d->findings.size(); ++i) {
      const auto& f = d->findings[i];
      const auto& rule = f.r();
      json jf = {{"rule", rule.id},
                 {"side", std::string(to_string(rule.binds))},
                 {"level", std::string(to_string(f.lvl()))},
                 {"rfc", rule.rfc},
                 {"line", f.line},
                 {"message", safe(f.message)},
                 {"excerpt", safe(f.excerpt)},
                 {"checked", std::find(c.findings.begin(), c.findings.end(), i) != c.findings.end()}};
      add_policy(jf, f);
      fs.push_back(std::move(jf));
    }
  js["findings"] = fs;
  if (!c.tls.empty()) js["tls"] = c.tls;
  if (!c.notes.empty()) js["notes"] = c.notes;
  if (!c.process_status.empty()) js["client"] = {{"status", c.process_status}, {"output", safe(c.process_output)}};
  js["elapsed_ms"] = c.elapsed.count();
  const bool shows = c.result == outcome::fail || c.result == outcome::error || c.result == outcome::not_done;
  js["dialogue"] = shows && d != nullptr ? json(safe(d->transcript)) : json(nullptr);
  return js;
}

void write_scenarios(json& doc, const report& r, const report_options& o) {
  detail::case_tally all;
  json list = json::array();
  for (const auto& s : r.suites)
    for (const auto& c : s.cases) {
      all.add(c);
      list.push_back(scenario_json(r, s.name, c, o));
    }
  doc["summary"] = {{"scenarios", all.total()},
                    {"pass", all.pass},
                    {"fail", all.fail},
                    {"fail_must", all.fail_by_level[0]},
                    {"fail_should", all.fail_by_level[1]},
                    {"fail_may", all.fail_by_level[2]},
                    {"not_applicable", all.na},
                    {"error", all.error},
                    {"not_done", all.not_done},
                    {"waived", all.waived}};
  doc["scenarios"] = list;
}

}  // namespace

nlohmann::ordered_json detail::json_document(const report& r, const report_options& o) {
  json doc;
  doc["tool"] = r.tool;
  doc["schema"] = 1;
  if (r.kind == report_kind::scenarios) {
    const auto& t = r.target;
    doc["target"] = safe(t.name);
    doc["greeting"] = safe(t.greeting);
    json ehlo = json::array();
    for (const auto& k : t.ehlo) ehlo.push_back(safe(k));
    doc["ehlo"] = ehlo;
    doc["tls"] = t.tls;
  }
  doc["fail_on"] = std::string(to_string(o.fail_on));
  if (!r.policy_file.empty()) doc["policy"] = r.policy_file;
  doc["verdict"] = r.target.unreachable ? "error" : failed(r, o.fail_on) ? "fail" : "pass";
  if (r.kind == report_kind::scenarios) {
    if (r.target.unreachable) doc["error"] = safe(r.target.unreachable_reason);
    doc["elapsed_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(r.elapsed).count();
    write_scenarios(doc, r, o);
  } else {
    write_dialogues(doc, r, o);
  }
  return doc;
}

void write_json(std::ostream& out, const report& r, const report_options& o) {
  out << detail::json_document(r, o).dump(2) << "\n";
}

}  // namespace smtpkit::conformance
