// fuzz/fuzz_escape.cpp — libFuzzer target for the escapes of the dialogue
// format (escape.hpp): \\ \r \n \t \0 \xHH, raw controls and ill-formed
// UTF-8 rejected.
//
// The input is used twice: as octets to escape, and as escaped text to
// decode. Invariants: escaping any octets gives valid UTF-8 text that decodes
// back to them, holds no raw control octet and no trailing SP/HT; text that decodes,
// escaped again and decoded, gives the same octets; an error's column lies
// inside the text and the text up to it decodes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtpkit;
  const fuzz::owned_input owned(data, size);
  const std::string_view in = owned.view();

  const std::string esc = escape(in);
  for (char ch : esc) {
    auto c = static_cast<unsigned char>(ch);
    SMTPKIT_FUZZ_CHECK(c >= 0x20 && c != 0x7F);
  }
  SMTPKIT_FUZZ_CHECK(esc.empty() || (esc.back() != ' ' && esc.back() != '\t'));
  SMTPKIT_FUZZ_CHECK(valid_utf8(esc));
  std::string back;
  unescape_error err;
  SMTPKIT_FUZZ_CHECK(unescape(esc, back, err) && back == in);

  std::string out;
  if (unescape(in, out, err)) {
    std::string twice;
    SMTPKIT_FUZZ_CHECK(unescape(escape(out), twice, err) && twice == out);
  } else {
    SMTPKIT_FUZZ_CHECK(err.column < in.size() && !err.message.empty());
    std::string head;
    unescape_error ignored;
    SMTPKIT_FUZZ_CHECK(unescape(in.substr(0, err.column), head, ignored));
  }
  return 0;
}
