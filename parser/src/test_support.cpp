// test_support.cpp — field-by-field comparison of command parses (RFC 5321
// §4.1.1-4.1.2), for the tests and fuzz_command that hold every fast path
// to the general parser. Built into smtpkit::parser_test_support only,
// never into the installed library.
#include "test_support.hpp"

namespace smtpkit {

namespace {

bool same_view(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && (a.empty() || a.data() == b.data());
}

bool same_host(const host& a, const host& b) noexcept {
  return same_view(a.text, b.text) && a.kind == b.kind && same_view(a.tag, b.tag) && same_view(a.address, b.address) &&
         a.utf8 == b.utf8;
}

bool same_path(const path& a, const path& b) noexcept {
  const mailbox& m = a.mbox;
  const mailbox& n = b.mbox;
  return same_view(a.text, b.text) && same_view(a.source_route, b.source_route) && same_view(m.text, n.text) &&
         same_view(m.local_part, n.local_part) && m.quoted == n.quoted && m.utf8 == n.utf8 &&
         same_host(m.domain, n.domain) && a.null == b.null && a.postmaster == b.postmaster &&
         a.bracketed == b.bracketed;
}

}  // namespace

bool detail::same_params(const mail_params& a, const mail_params& b) noexcept {
  return a.present == b.present && a.unknown == b.unknown && a.size == b.size && a.body == b.body && a.ret == b.ret &&
         a.mt_priority == b.mt_priority && a.notify == b.notify && same_view(a.envid, b.envid) &&
         same_view(a.auth, b.auth) && same_view(a.orcpt_type, b.orcpt_type) && same_view(a.orcpt, b.orcpt);
}

bool detail::same_result(const command_result& a, const command_result& b) noexcept {
  const command& x = a.cmd;
  const command& y = b.cmd;
  return a.diag.code == b.diag.code && a.diag.offset == b.diag.offset && x.kind == y.kind &&
         same_view(x.verb_text, y.verb_text) && same_view(x.argument, y.argument) && same_host(x.client, y.client) &&
         same_path(x.address, y.address) && same_view(x.params.text(), y.params.text()) &&
         same_params(x.typed, y.typed) && same_view(x.text, y.text) && x.smtputf8_flag == y.smtputf8_flag &&
         same_view(x.mechanism, y.mechanism) && same_view(x.initial_response, y.initial_response) &&
         x.has_initial_response == y.has_initial_response && x.chunk_size == y.chunk_size && x.last == y.last;
}

}  // namespace smtpkit
