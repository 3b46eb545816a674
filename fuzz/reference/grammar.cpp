// fuzz/reference/grammar.cpp — loads the embedded reference ABNF
// (core.abnf, smtp.abnf, smtputf8.abnf; see cmake/embed.cmake).
#include "reference/grammar.hpp"

#include <cstdio>
#include <cstdlib>

namespace smtpkit::reference {
namespace text {
extern const char core[];
extern const char smtp[];
extern const char smtputf8[];
}  // namespace text

namespace {

abnf::grammar load(bool smtputf8) {
  abnf::grammar g;
  std::string why = g.add(text::core);
  if (why.empty()) why = g.add(text::smtp);
  if (why.empty() && smtputf8) why = g.add(text::smtputf8);
  if (why.empty()) why = g.finish();
  if (!why.empty()) {
    std::fprintf(stderr, "reference grammar: %s\n", why.c_str());
    std::abort();
  }
  return g;
}

}  // namespace

const abnf::grammar& smtp_grammar(bool smtputf8) {
  static const abnf::grammar ascii = load(false);
  static const abnf::grammar utf8 = load(true);
  return smtputf8 ? utf8 : ascii;
}

}  // namespace smtpkit::reference
