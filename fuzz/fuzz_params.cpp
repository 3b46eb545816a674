// fuzz/fuzz_params.cpp — libFuzzer target for ESMTP parameter lists
// (RFC 5321 §4.1.2 esmtp-param; SIZE RFC 1870, BODY RFC 6152/3030, SMTPUTF8
// RFC 6531, RET/ENVID/NOTIFY/ORCPT RFC 3461, AUTH= RFC 4954 §5,
// MT-PRIORITY RFC 6710, REQUIRETLS RFC 8689) and xtext (RFC 3461 §4).
//
// Byte 0: bit 0 MAIL (else RCPT), bit 1 SMTPUTF8, bit 2 xtext instead of a
// parameter list. The rest is the text. Invariants: views inside the input;
// an accepted list iterates to parameters that print back to the same text,
// and its typed values agree with the generic list; xtext decoding inverts
// encoding for any octets, and decode(encode(decode(x))) == decode(x).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "smtpkit/params.hpp"

namespace {

using namespace smtpkit;
using fuzz::inside;

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

void check_typed(const mail_params& p, std::string_view in) {
  SMTPKIT_FUZZ_CHECK(inside(p.envid, in) && inside(p.auth, in));
  SMTPKIT_FUZZ_CHECK(inside(p.orcpt_type, in) && inside(p.orcpt, in));
}

// xtext (RFC 3461 §4): encoding any octets gives xtext that decodes back.
void check_xtext(std::string_view in) {
  const std::string enc = xtext_encode(in);
  SMTPKIT_FUZZ_CHECK(is_xtext(enc));
  std::string dec;
  SMTPKIT_FUZZ_CHECK(xtext_decode(enc, dec) && dec == in);
  if (is_xtext(in)) {
    std::string first;
    SMTPKIT_FUZZ_CHECK(xtext_decode(in, first));
    std::string second;
    SMTPKIT_FUZZ_CHECK(xtext_decode(xtext_encode(first), second) && second == first);
  } else {
    std::string ignored;
    SMTPKIT_FUZZ_CHECK(!xtext_decode(in, ignored));
  }
}

void check_params(std::string_view in, bool for_mail, parse_options opts) {
  mail_params out;
  diagnostic d = parse_params(in, for_mail, opts, out);
  SMTPKIT_FUZZ_CHECK(d.offset <= in.size());
  check_typed(out, in);
  // Any first keyword, valid or not: a known one names itself back.
  const std::string_view first = in.substr(0, in.find_first_of("= "));
  if (const param_id id = param_from_keyword(first); id != param_id::count_)
    SMTPKIT_FUZZ_CHECK(iequal(to_string(id), first));
  if (!d.ok()) return;
  SMTPKIT_FUZZ_CHECK(out.unknown == 0);
  param_list list(in);
  std::string printed;
  std::size_t n = 0;
  for (const esmtp_param& e : list) {
    SMTPKIT_FUZZ_CHECK(inside(e.keyword, in) && inside(e.value, in));
    SMTPKIT_FUZZ_CHECK(e.offset < in.size() && in.substr(e.offset, e.keyword.size()) == e.keyword);
    const param_id id = param_from_keyword(e.keyword);
    SMTPKIT_FUZZ_CHECK(id != param_id::count_ && is_mail_param(id) == for_mail && out.has(id));
    SMTPKIT_FUZZ_CHECK(param_from_keyword(to_string(id)) == id);
    // Typed values print back to what was written (case aside).
    if (id == param_id::body) SMTPKIT_FUZZ_CHECK(iequal(to_string(out.body), e.value));
    if (id == param_id::ret) SMTPKIT_FUZZ_CHECK(iequal(to_string(out.ret), e.value));
    if (n++) printed += ' ';
    printed.append(e.keyword);
    if (e.has_value) printed.append("=").append(e.value);
    esmtp_param found;
    SMTPKIT_FUZZ_CHECK(list.find(e.keyword, found) != nullptr && found.offset == e.offset);
  }
  SMTPKIT_FUZZ_CHECK(printed == in && n == list.size());
  std::size_t again = 0;
  for (auto it = list.begin(); it != list.end(); it++) again += it->keyword.empty() ? 0 : 1;
  esmtp_param none;
  SMTPKIT_FUZZ_CHECK(again == n && list.find("X-NOT-A-PARAMETER", none) == nullptr);
  SMTPKIT_FUZZ_CHECK(out.has(param_id::body) || to_string(out.body).empty());
  SMTPKIT_FUZZ_CHECK(out.has(param_id::ret) || to_string(out.ret).empty());
  std::string decoded;
  if (out.has(param_id::envid)) SMTPKIT_FUZZ_CHECK(xtext_decode(out.envid, decoded));
  if (out.has(param_id::orcpt)) SMTPKIT_FUZZ_CHECK(xtext_decode(out.orcpt, decoded));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fuzz::owned_input owned(data + 1, size - 1);
  parse_options opts;
  opts.smtputf8 = (data[0] & 2) != 0;
  if (data[0] & 4) check_xtext(owned.view());
  else check_params(owned.view(), (data[0] & 1) != 0, opts);
  return 0;
}
