// cli/parse_cmd.cpp — `smtpkit parse`: run one grammar entry point over
// records (one per input line, dialogue-format escapes) and print one JSON
// object per record. Exit 0 when every record parsed, 1 when any was
// rejected, 2 on usage errors (a bad escape is one: it says file:line:col).
#include <cerrno>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "json_fields.hpp"
#include "smtpkit/transcript.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/line.hpp"
#include "verbs.hpp"

namespace smtpkit::cli {
namespace {

using json = nlohmann::ordered_json;

struct parse_args {
  std::string as = "command";
  std::string file = "-";
  bool smtputf8 = false;
  std::vector<std::string> lenient;
};

const std::map<std::string, lenient> lenient_names{
    {"space-after-colon", lenient::space_after_colon},
    {"bare-lf", lenient::bare_lf},
    {"trailing-whitespace", lenient::trailing_whitespace},
    {"path-brackets", lenient::path_brackets},
    {"helo-address-literal", lenient::helo_address_literal},
    {"auth-mechanism-case", lenient::auth_mechanism_case},
    {"all", lenient::all},
};

json verdict(std::string_view input_text, const diagnostic& d) {
  json j{{"input", json_text(input_text)}, {"ok", d.ok()}};
  if (d.ok()) {
    j["rule"] = nullptr;
  } else {
    j["rule"] = std::string(d.rule());
    j["offset"] = d.offset;
    j["reason"] = std::string(d.why());
    j["rfc"] = std::string(d.rfc());
  }
  return j;
}

// Line-level problems (bare CR/LF, NUL, controls) of each CRLF-separated line.
diagnostic framing(std::string_view text, parse_options opts) {
  std::size_t base = 0;
  while (base <= text.size()) {
    std::size_t end = text.find("\r\n", base);
    if (end == std::string_view::npos) end = text.size();
    line_framer f(static_cast<std::size_t>(-1) / 2, opts);
    std::string one(text.substr(base, end - base));
    one += "\r\n";
    auto r = f.next(one);
    if (r.diag) return {r.diag.code, static_cast<std::uint32_t>(base + r.diag.offset)};
    if (end == text.size()) break;
    base = end + 2;
  }
  return {};
}

json parse_one(const std::string& as, std::string_view bytes, parse_options opts) {
  diagnostic d;
  json fields;
  if (as == "command") {
    d = framing(bytes, opts);
    auto r = parse_command(bytes, opts);
    if (d.ok()) d = r.diag;
    fields = to_json(r.cmd);
  } else if (as == "reply" || as == "ehlo-reply" || as == "greeting") {
    if (bytes.size() >= 2 && bytes.substr(bytes.size() - 2) == "\r\n") bytes.remove_suffix(2);
    d = framing(bytes, opts);
    if (as == "reply") {
      auto r = parse_reply(bytes, opts);
      if (d.ok()) d = r.diag;
      fields = to_json(r.value, opts);
    } else if (as == "greeting") {
      auto r = parse_greeting(bytes, opts);
      if (d.ok()) d = r.diag;
      fields = to_json(r.value.rep, opts);
      if (r.ok() && r.value.rep.code == 220) fields["server"] = to_json(r.value.server);
    } else {
      auto r = parse_ehlo_reply(bytes, opts);
      if (d.ok()) d = r.diag;
      fields = to_json(r.value);
    }
  } else if (as == "path" || as == "reverse-path") {
    auto r = parse_path(bytes, as == "path" ? path_kind::forward : path_kind::reverse, opts);
    d = r.diag;
    if (r.ok()) fields = to_json(r.value);
  } else if (as == "mailbox") {
    auto r = parse_mailbox(bytes, opts);
    d = r.diag;
    if (r.ok()) fields = to_json(r.value);
  } else if (as == "domain") {
    auto r = parse_domain(bytes, opts);
    d = r.diag;
    if (r.ok()) fields = to_json(r.value);
  } else if (as == "host") {
    auto r = parse_host(bytes, opts);
    d = r.diag;
    if (r.ok()) fields = to_json(r.value);
  }
  json j = verdict(bytes, d);
  j["fields"] = fields.is_null() ? json::object() : fields;
  return j;
}

int run_parse(const parse_args& a) {
  parse_options opts;
  opts.smtputf8 = a.smtputf8;
  for (const auto& name : a.lenient) opts.relax = opts.relax | lenient_names.at(name);
  std::ifstream file;
  std::istream* in = &std::cin;
  if (a.file != "-") {
    errno = 0;
    file.open(a.file, std::ios::binary);
    if (!file) {
      std::cerr << "smtpkit parse: " << a.file << ": " << open_failure(errno != 0 ? errno : EIO) << "\n";
      return exit_usage;
    }
    in = &file;
  }
  const std::string source = a.file == "-" ? "<stdin>" : a.file;
  std::string line;
  std::size_t line_no = 0;
  bool rejected = false;
  while (std::getline(*in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string bytes;
    unescape_error err;
    if (!unescape(line, bytes, err)) {
      std::cerr << source << ":" << line_no << ":" << err.column + 1 << ": " << err.message << "\n";
      return exit_usage;
    }
    json j = parse_one(a.as, bytes, opts);
    j["input"] = line;  // the record as written
    rejected |= !j["ok"].get<bool>();
    std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return rejected ? exit_violations : exit_ok;
}

}  // namespace

void add_parse(CLI::App& app, runner& run) {
  auto args = std::make_shared<parse_args>();
  auto* sub = app.add_subcommand("parse", "Parse records with one grammar entry point; JSON lines out");
  sub->footer(
      "Input: one record per line, in the dialogue format's escapes (\\r \\n \\t \\0 \\xHH \\\\).\n"
      "A reply record may hold several lines joined by \\r\\n.\n"
      "Output: one JSON object per record: input, ok, rule, offset, reason, rfc, fields (docs/cli.md).\n"
      "Exit: 0 every record parsed, 1 some record rejected, 2 usage error.");
  sub->add_option("--as", args->as, "Grammar entry point")
      ->check(CLI::IsMember(
          {"command", "reply", "greeting", "ehlo-reply", "path", "reverse-path", "mailbox", "domain", "host"}))
      ->capture_default_str();
  sub->add_option("file", args->file, "Input file ('-' or none: standard input)");
  sub->add_flag("--smtputf8", args->smtputf8, "SMTPUTF8 in force (RFC 6531): UTF-8 in paths and values");
  sub->add_option("--lenient", args->lenient, "Relax a named rule (repeatable)")
      ->check(CLI::IsMember({"space-after-colon", "bare-lf", "trailing-whitespace", "path-brackets",
                             "helo-address-literal", "auth-mechanism-case", "all"}))
      ->delimiter(',');
  sub->callback([args, &run] { run = [args] { return run_parse(*args); }; });
}

}  // namespace smtpkit::cli
