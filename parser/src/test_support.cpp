// test_support.cpp — field-by-field comparison of command parses (RFC 5321
// §4.1.1-4.1.2), for the tests and fuzz_command that hold every fast path
// to the general parser. Built into smtpkit::parser_test_support only,
// never into the installed library.
#include "test_support.hpp"

#include <cstddef>

#include "command_fast.hpp"
#include "command_fields.hpp"

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

// One field of two commands, by its type.
bool same_field(std::string_view a, std::string_view b) noexcept { return same_view(a, b); }
bool same_field(const host& a, const host& b) noexcept { return same_host(a, b); }
bool same_field(const path& a, const path& b) noexcept { return same_path(a, b); }
bool same_field(const param_list& a, const param_list& b) noexcept { return same_view(a.text(), b.text()); }
bool same_field(const mail_params& a, const mail_params& b) noexcept { return detail::same_params(a, b); }
template <class T>
bool same_field(const T& a, const T& b) noexcept {
  return a == b;
}

}  // namespace

std::vector<std::string_view> detail::command_fast_path_choices() {
  std::vector<std::string_view> out;
  for (const command_fast_paths* p : command_fast_path_sets())
    if (p) out.emplace_back(p->name);
  out.emplace_back("none");
  return out;
}

bool detail::same_params(const mail_params& a, const mail_params& b) noexcept {
  return a.present == b.present && a.unknown == b.unknown && a.size == b.size && a.body == b.body && a.ret == b.ret &&
         a.mt_priority == b.mt_priority && a.notify == b.notify && same_view(a.envid, b.envid) &&
         same_view(a.auth, b.auth) && same_view(a.orcpt_type, b.orcpt_type) && same_view(a.orcpt, b.orcpt);
}

bool detail::same_result(const command_result& a, const command_result& b) noexcept {
  const command& x = a.cmd;
  const command& y = b.cmd;
  bool same = a.diag.code == b.diag.code && a.diag.offset == b.diag.offset && x.kind == y.kind &&
              same_view(x.verb_text, y.verb_text) && same_view(x.argument, y.argument);
  // The fields of every kind of argument, not only of x.kind's: a parse
  // must leave the others as they were.
  for (std::size_t k = 0; k < static_cast<std::size_t>(argument_kind::count_); ++k)
    for_each_field(
        static_cast<argument_kind>(k), [&](const auto& p, const auto& q) { same = same && same_field(p, q); }, x, y);
  return same;
}

}  // namespace smtpkit
