// cli/json_fields.cpp — JSON views of parse results.
#include "json_fields.hpp"

#include "smtpkit/utf8.hpp"
#include "smtpkit/escape.hpp"

namespace smtpkit::cli {

using json = nlohmann::ordered_json;

std::string json_text(std::string_view bytes) {
  if (valid_utf8(bytes)) return std::string(bytes);
  return escape(bytes);
}

json to_json(const host& h) {
  json j{{"text", json_text(h.text)}, {"kind", std::string(to_string(h.kind))}};
  if (h.kind != host_kind::domain) {
    j["address"] = json_text(h.address);
    if (!h.tag.empty()) j["tag"] = json_text(h.tag);
  }
  if (h.utf8) j["utf8"] = true;
  return j;
}

json to_json(const mailbox& m) {
  json j{{"text", json_text(m.text)}, {"local_part", json_text(m.local_part)}, {"domain", to_json(m.domain)}};
  if (m.quoted) j["quoted"] = true;
  if (m.utf8) j["utf8"] = true;
  return j;
}

json to_json(const path& p) {
  json j{{"text", json_text(p.text)}};
  if (p.null) {
    j["null"] = true;
    return j;
  }
  if (p.postmaster) {
    j["postmaster"] = true;
    return j;
  }
  j["mailbox"] = to_json(p.mbox);
  if (!p.source_route.empty()) j["source_route"] = json_text(p.source_route);
  if (!p.bracketed) j["bracketed"] = false;
  return j;
}

namespace {

json params_json(const command& c) {
  json list = json::array();
  for (const auto& p : c.params) {
    json e{{"keyword", json_text(p.keyword)}};
    if (p.has_value) e["value"] = json_text(p.value);
    list.push_back(e);
  }
  return list;
}

json typed_json(const mail_params& t) {
  json j = json::object();
  if (t.has(param_id::size)) j["size"] = t.size;
  if (t.has(param_id::body)) j["body"] = std::string(to_string(t.body));
  if (t.has(param_id::smtputf8)) j["smtputf8"] = true;
  if (t.has(param_id::ret)) j["ret"] = std::string(to_string(t.ret));
  if (t.has(param_id::envid)) j["envid"] = json_text(t.envid);
  if (t.has(param_id::auth)) j["auth"] = json_text(t.auth);
  if (t.has(param_id::mt_priority)) j["mt_priority"] = t.mt_priority;
  if (t.has(param_id::requiretls)) j["requiretls"] = true;
  if (t.has(param_id::notify)) {
    json n = json::array();
    if (t.notify & notify_never) n.push_back("NEVER");
    if (t.notify & notify_success) n.push_back("SUCCESS");
    if (t.notify & notify_failure) n.push_back("FAILURE");
    if (t.notify & notify_delay) n.push_back("DELAY");
    j["notify"] = n;
  }
  if (t.has(param_id::orcpt)) j["orcpt"] = {{"type", json_text(t.orcpt_type)}, {"address", json_text(t.orcpt)}};
  return j;
}

}  // namespace

json to_json(const command& c) {
  json j{{"verb", std::string(to_string(c.kind))}, {"verb_text", json_text(c.verb_text)}};
  switch (c.kind) {
    case verb::ehlo:
    case verb::helo:
      if (!c.client.text.empty()) j["client"] = to_json(c.client);
      break;
    case verb::mail:
    case verb::rcpt:
      if (!c.address.text.empty()) j["path"] = to_json(c.address);
      if (!c.params.empty()) {
        j["params"] = params_json(c);
        j["typed"] = typed_json(c.typed);
      }
      break;
    case verb::vrfy:
    case verb::expn:
    case verb::help:
    case verb::noop:
      if (!c.text.empty()) j["string"] = json_text(c.text);
      if (c.smtputf8_flag) j["smtputf8"] = true;
      break;
    case verb::auth:
      j["mechanism"] = json_text(c.mechanism);
      if (c.has_initial_response) j["initial_response"] = json_text(c.initial_response);
      break;
    case verb::bdat:
      j["chunk_size"] = c.chunk_size;
      j["last"] = c.last;
      break;
    default:
      if (!c.argument.empty()) j["argument"] = json_text(c.argument);
      break;
  }
  return j;
}

json to_json(const reply& r, parse_options opts) {
  json lines = json::array();
  reply_lines it(r.raw);
  std::string_view line;
  while (it.next(line)) {
    auto lr = parse_reply_line(line, opts);
    lines.push_back(json_text(lr.value.text));
  }
  json j{{"code", r.code}, {"lines", lines}};
  auto esc = parse_enhanced_status(r.first_text);
  if (esc.value.present && esc.ok()) j["enhanced"] = std::string(esc.value.code);
  return j;
}

json to_json(const ehlo_info& e) {
  json ext = json::array();
  for (int i = 0; i < static_cast<int>(extension::count_); ++i)
    if (e.has(static_cast<extension>(i))) ext.push_back(std::string(to_string(static_cast<extension>(i))));
  json kws = json::array();
  ehlo_keywords it(e.raw);
  ehlo_keyword kw;
  while (it.next(kw)) {
    json k{{"keyword", json_text(kw.keyword)}};
    if (!kw.params.empty()) k["params"] = json_text(kw.params);
    kws.push_back(k);
  }
  json j{{"domain", json_text(e.domain)}, {"extensions", ext}, {"keywords", kws}};
  if (!e.greet.empty()) j["greet"] = json_text(e.greet);
  if (e.size_declared) j["size_limit"] = e.size_limit;
  if (!e.auth_mechanisms.empty()) j["auth_mechanisms"] = json_text(e.auth_mechanisms);
  return j;
}

}  // namespace smtpkit::cli
