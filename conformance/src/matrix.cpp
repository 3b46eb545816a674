// matrix.cpp — probe runs joined into an implementation × scenario table
// (smtpkit/conformance/matrix.hpp), written as Markdown or HTML.
#include "smtpkit/conformance/matrix.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "report_format.hpp"
#include "smtpkit/conformance/report.hpp"

namespace smtpkit::conformance {
namespace {

using json = nlohmann::json;

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

matrix_column read_run(const std::string& arg, json& doc) {
  matrix_column col;
  std::string file = arg;
  if (const auto eq = arg.find('='); eq != std::string::npos && !std::filesystem::exists(arg)) {
    col.name = arg.substr(0, eq);
    file = arg.substr(eq + 1);
  }
  if (col.name.empty()) col.name = std::filesystem::path(file).stem().string();
  errno = 0;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw matrix_error(file + ": " + open_failure(errno != 0 ? errno : EIO));
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    throw matrix_error(file + ": not JSON: " + e.what());
  }
  if (doc.is_object() && doc.contains("report") && doc["report"].is_object()) {
    col.version = str(doc, "version");
    json inner = doc["report"];
    doc = std::move(inner);
  }
  if (!doc.is_object() || !doc.contains("scenarios") || !doc["scenarios"].is_array())
    throw matrix_error(file + ": not a probe report (smtpkit probe server|client --format json): no 'scenarios'");
  col.target = str(doc, "target");
  col.verdict = str(doc, "verdict");
  return col;
}

void tally(matrix_column& col, const matrix_cell& c) {
  if (c.waived) ++col.waived;
  else if (c.verdict == "pass") ++col.pass;
  else if (c.verdict == "fail" && c.failed_level == "MUST") ++col.fail_must;
  else if (c.verdict == "fail" && c.failed_level == "SHOULD") ++col.fail_should;
  else if (c.verdict == "fail") ++col.fail_may;
  else if (c.verdict == "not-done") ++col.not_done;
  else if (c.verdict == "not-applicable") ++col.na;
  else if (c.verdict == "error") ++col.error;
}

std::string summary(const matrix_column& c) {
  return fmt::format("{} pass, {} MUST / {} SHOULD / {} MAY fail, {} not done, {} waived, {} n/a, {} error", c.pass,
                     c.fail_must, c.fail_should, c.fail_may, c.not_done, c.waived, c.na, c.error);
}

std::string outcome_text(const std::string& o) {
  if (o == "accepted-as-end-of-data") return "ENDED DATA";
  if (o == "kept-in-message") return "kept";
  return o;
}

std::string cell_text(const matrix_cell& c, bool markdown) {
  std::string t;
  if (c.verdict.empty()) return t;
  if (c.verdict == "pass") t = "pass";
  else if (c.verdict == "fail") t = c.failed_level == "MUST" && markdown ? "**FAIL** MUST" : "fail " + c.failed_level;
  else if (c.verdict == "not-applicable") t = "n/a";
  else if (c.verdict == "not-done") t = "not done";
  else t = c.verdict;
  if (c.waived) t += " (waived)";
  if (!c.outcome.empty()) t += " (" + outcome_text(c.outcome) + ")";
  return t;
}

std::vector<std::string> groups_of(const matrix& m) {
  std::vector<std::string> out;
  for (const auto& r : m.rows)
    if (std::find(out.begin(), out.end(), r.group) == out.end()) out.push_back(r.group);
  return out;
}

std::string md(std::string_view s) { return markdown_cell(s); }

}  // namespace

std::string markdown_cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

matrix load_matrix(const std::vector<std::string>& runs) {
  matrix m;
  for (const auto& arg : runs) {
    json doc;
    m.columns.push_back(read_run(arg, doc));
    const std::size_t col = m.columns.size() - 1;
    for (const auto& s : doc["scenarios"]) {
      const std::string id = str(s, "id");
      auto row = std::find_if(m.rows.begin(), m.rows.end(), [&](const matrix_row& r) { return r.id == id; });
      if (row == m.rows.end()) {
        m.rows.push_back({id, str(s, "title"), str(s, "group"), str(s, "level"), str(s, "file"), {}});
        row = m.rows.end() - 1;
      }
      row->cells.resize(m.columns.size());
      matrix_cell& c = row->cells[col];
      c.verdict = str(s, "verdict");
      c.failed_level = str(s, "failed_level");
      c.waived =
          s.contains("waived") && c.verdict == "fail";  // a waiver matters where it keeps a failure from counting
      if (s.contains("outcome") && s["outcome"].is_object()) c.outcome = str(s["outcome"], "result");
      tally(m.columns[col], c);
    }
  }
  for (auto& r : m.rows) r.cells.resize(m.columns.size());
  return m;
}

void write_matrix_markdown(std::ostream& out, const matrix& m, const std::string& title) {
  out << "# " << md(title) << "\n\n| implementation | target | result |\n| --- | --- | --- |\n";
  for (const auto& c : m.columns)
    out << fmt::format("| {}{} | {} | {} |\n", md(c.name), c.version.empty() ? "" : " " + md(c.version), md(c.target),
                       summary(c));
  out << "\nCells: **FAIL** MUST, fail SHOULD, fail MAY (the RFC level of what failed), pass, not done (an\n"
         "optional behaviour the implementation does not have), n/a (not applicable), error; (waived) when a\n"
         "policy waived it; for end-of-data probes what the server did with the data: kept, rejected, or\n"
         "ENDED DATA (SMTP smuggling).\n";
  for (const auto& g : groups_of(m)) {
    out << "\n## " << md(g) << "\n\n| scenario | level |";
    for (const auto& c : m.columns) out << " " << md(c.name) << " |";
    out << "\n| --- | --- |";
    for (std::size_t i = 0; i < m.columns.size(); ++i) out << " --- |";
    out << "\n";
    for (const auto& r : m.rows) {
      if (r.group != g) continue;
      out << fmt::format("| {}<br>{} | {} |", md(r.id), md(r.title), md(r.level));
      for (const auto& c : r.cells) out << " " << cell_text(c, true) << " |";
      out << "\n";
    }
  }
}

void write_matrix_html(std::ostream& out, const matrix& m, const std::string& title) {
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << xml_escape(title)
      << "</title>\n<style>\n"
         "body{font:14px/1.5 system-ui,sans-serif;margin:24px;color:#1f2328}"
         "table{border-collapse:collapse;margin:8px 0 24px}th,td{border:1px solid #d0d7de;padding:3px 8px;"
         "text-align:left;vertical-align:top}th{background:#f6f8fa}td.id{font-family:ui-monospace,monospace}"
         ".pass{background:#dafbe1}.fail-must{background:#ffebe9;font-weight:700;color:#cf222e}"
         ".fail-should{background:#fff8c5}.fail-may,.not-done,.not-applicable{background:#f6f8fa;color:#57606a}"
         ".error{background:#fbefff}.waived{opacity:.6}.title{color:#57606a}\n"
         "</style>\n</head>\n<body>\n<h1>"
      << xml_escape(title)
      << "</h1>\n<table class=\"summary\">\n<tr><th>implementation</th><th>target</th><th>result</th></tr>\n";
  for (const auto& c : m.columns)
    out << "<tr><td>" << xml_escape(c.name + (c.version.empty() ? "" : " " + c.version)) << "</td><td>"
        << xml_escape(c.target) << "</td><td>" << xml_escape(summary(c)) << "</td></tr>\n";
  out << "</table>\n";
  for (const auto& g : groups_of(m)) {
    out << "<h2>" << xml_escape(g) << "</h2>\n<table class=\"matrix\">\n<tr><th>scenario</th><th>level</th>";
    for (const auto& c : m.columns) out << "<th>" << xml_escape(c.name) << "</th>";
    out << "</tr>\n";
    for (const auto& r : m.rows) {
      if (r.group != g) continue;
      out << "<tr><td class=\"id\">" << xml_escape(r.id) << "<div class=\"title\">" << xml_escape(r.title)
          << "</div></td><td>" << xml_escape(r.level) << "</td>";
      for (const auto& c : r.cells) {
        std::string cls = c.verdict == "fail" ? "fail-" + detail::safe(c.failed_level) : c.verdict;
        for (char& ch : cls) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (c.waived) cls += " waived";
        out << "<td class=\"" << xml_escape(cls) << "\">" << xml_escape(cell_text(c, false)) << "</td>";
      }
      out << "</tr>\n";
    }
    out << "</table>\n";
  }
  out << "</body>\n</html>\n";
}

}  // namespace smtpkit::conformance
