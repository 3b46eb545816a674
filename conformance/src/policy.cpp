// policy.cpp — waivers and level overrides (smtpkit/conformance/policy.hpp):
// the config file (YAML, read with yaml-cpp), the command line's forms, and
// marking a report with them.
#include "smtpkit/conformance/policy.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "smtpkit/conformance/report.hpp"

namespace smtpkit::conformance {

bool glob_match(std::string_view p, std::string_view t) noexcept {
  // Iterative matching with one backtrack point: linear in practice, never
  // exponential on many stars.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

const waiver* policy::waived(std::string_view id, std::string_view source) const {
  for (const auto& w : waivers) {
    if (!glob_match(w.pattern, id)) continue;
    if (w.sources.empty()) return &w;
    for (const auto& s : w.sources)
      if (glob_match(s, source)) return &w;
  }
  return nullptr;
}

const level_override* policy::level_for(std::string_view id) const {
  const level_override* found = nullptr;
  for (const auto& o : levels)
    if (glob_match(o.pattern, id)) found = &o;
  return found;
}

void policy::ignore(std::string pattern) {
  waivers.push_back({std::move(pattern), "waived on the command line", "--ignore", {}});
}

namespace {
// A policy may also lower a rule to advice (never counted), which --fail-on
// and scenarios do not name.
bool policy_level(std::string_view name, level& out) {
  if (name.size() == 6 && (name == "advice" || name == "ADVICE" || name == "Advice")) {
    out = level::advice;
    return true;
  }
  return level_from_string(name, out);
}
}  // namespace

bool policy::set_level(std::string_view spec, std::string& why) {
  const auto eq = spec.find('=');
  level l{};
  if (eq == std::string_view::npos || eq == 0 || !policy_level(spec.substr(eq + 1), l)) {
    why = fmt::format("--level {}: expected RULE=must|should|may|advice", spec);
    return false;
  }
  levels.push_back({std::string(spec.substr(0, eq)), l, "set on the command line", "--level"});
  return true;
}

namespace {

[[noreturn]] void fail(const std::string& file, const YAML::Node& at, std::string_view what) {
  const auto m = at.Mark();
  throw policy_error(fmt::format("{}:{}: {}", file, m.is_null() ? 0 : m.line + 1, what));
}

std::string text_of(const std::string& file, const YAML::Node& entry, const char* key, bool required) {
  const YAML::Node v = entry[key];
  if (!v) {
    if (required) fail(file, entry, fmt::format("'{}' is missing", key));
    return {};
  }
  if (!v.IsScalar() || v.Scalar().empty()) fail(file, v, fmt::format("'{}' must be a non-empty text", key));
  return v.Scalar();
}

// A pattern of client or server rules must name some rule, or a typo
// waives nothing and nobody notices. Other ids are scenarios (of any suite,
// the user's own too), which cannot be known here.
void check_pattern(const std::string& file, const YAML::Node& at, const std::string& pattern) {
  const std::string side = pattern.substr(0, pattern.find('.'));
  if (side != "client" && side != "server") return;
  for (const auto& r : catalogue())
    if (glob_match(pattern, r.id)) return;
  fail(file, at, fmt::format("'{}' matches no rule of the catalogue (smtpkit rules)", pattern));
}

void read_ignores(const std::string& file, const YAML::Node& list, policy& out) {
  if (!list.IsSequence()) fail(file, list, "'ignore' must be a list of {rule, reason[, dialogues]}");
  for (const auto& e : list) {
    if (!e.IsMap()) fail(file, e, "an 'ignore' entry must be a map: rule, reason[, dialogues]");
    waiver w;
    w.pattern = text_of(file, e, "rule", true);
    check_pattern(file, e["rule"], w.pattern);
    w.reason = text_of(file, e, "reason", true);
    w.origin = fmt::format("{}:{}", file, e.Mark().line + 1);
    if (const auto d = e["dialogues"]) {
      if (!d.IsSequence()) fail(file, d, "'dialogues' must be a list of file globs");
      for (const auto& g : d) w.sources.push_back(g.as<std::string>());
    }
    for (const auto& kv : e) {
      const auto k = kv.first.as<std::string>();
      if (k != "rule" && k != "reason" && k != "dialogues") fail(file, kv.first, fmt::format("unknown key '{}'", k));
    }
    out.waivers.push_back(std::move(w));
  }
}

void read_levels(const std::string& file, const YAML::Node& list, policy& out) {
  if (!list.IsSequence()) fail(file, list, "'level' must be a list of {rule, level, reason}");
  for (const auto& e : list) {
    if (!e.IsMap()) fail(file, e, "a 'level' entry must be a map: rule, level, reason");
    level_override o;
    o.pattern = text_of(file, e, "rule", true);
    check_pattern(file, e["rule"], o.pattern);
    if (!policy_level(text_of(file, e, "level", true), o.lvl))
      fail(file, e["level"], "'level' must be must, should, may or advice");
    o.reason = text_of(file, e, "reason", true);
    o.origin = fmt::format("{}:{}", file, e.Mark().line + 1);
    for (const auto& kv : e) {
      const auto k = kv.first.as<std::string>();
      if (k != "rule" && k != "level" && k != "reason") fail(file, kv.first, fmt::format("unknown key '{}'", k));
    }
    out.levels.push_back(std::move(o));
  }
}

}  // namespace

policy load_policy_file(const std::string& path) {
  policy out;
  out.file = path;
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw policy_error(path + ": cannot read");
  } catch (const YAML::ParserException& e) {
    throw policy_error(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  if (!doc || doc.IsNull()) return out;
  if (!doc.IsMap()) fail(path, doc, "expected a map with 'ignore' and 'level' lists");
  try {
    for (const auto& kv : doc) {
      const auto k = kv.first.as<std::string>();
      if (k == "ignore") read_ignores(path, kv.second, out);
      else if (k == "level") read_levels(path, kv.second, out);
      else fail(path, kv.first, fmt::format("unknown key '{}' (expected 'ignore' or 'level')", k));
    }
  } catch (const YAML::Exception& e) {
    throw policy_error(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  return out;
}

std::string find_policy_file(const std::filesystem::path& start) {
  std::error_code ec;
  auto dir = std::filesystem::absolute(start, ec);
  if (ec) return {};
  for (;;) {
    const auto candidate = dir / policy_file_name;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
    if (!dir.has_parent_path() || dir.parent_path() == dir) return {};
    dir = dir.parent_path();
  }
}

void apply(const policy& p, session_report& d) {
  for (auto& f : d.findings) {
    const auto& id = f.r().id;
    if (const waiver* w = p.waived(id, d.source)) {
      f.waived = w->reason;
      f.waived_by = w->origin;
    }
    if (const level_override* o = p.level_for(id)) {
      f.lvl_override = o->lvl;
      f.level_by = o->origin;
    }
  }
}

void apply(const policy& p, report_case& c, const session_report& d) {
  const waiver* w = p.waived(c.id, c.file);
  if (w == nullptr) w = p.waived(c.id.substr(0, c.id.find('[')), c.file);
  if (w != nullptr) {
    c.waived = w->reason;
    c.waived_by = w->origin;
  }
  settle(c, d);
}

void apply(const policy& p, report& r) {
  if (p.empty()) return;
  for (auto& d : r.dialogues) apply(p, d);
  for (auto& s : r.suites)
    for (auto& c : s.cases)
      if (c.kind == case_kind::scenario && c.dialogue != no_dialogue) apply(p, c, r.dialogues[c.dialogue]);
}

}  // namespace smtpkit::conformance
