// smtpkit/mock/script/pattern.hpp — line patterns of the dialogue format's script
// records (C~ / S~, docs/dialogue-format.md): literal text except
//   {*}         any run of characters, possibly empty
//   {name}      the same, captured as `name`
//   {re:EXPR}   an RE2 expression (linear time: a script cannot hang a peer)
//   {{          a literal "{"
// Literal parts use the dialogue escapes and match ASCII letters without
// regard to case (SMTP verbs and keywords are case-insensitive); captured
// values keep the peer's case. A pattern matches a whole line, octet by
// octet (RE2 in Latin-1 mode, so any octet sequence can be matched).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace re2 {
class RE2;
}

namespace smtpkit::mock {

using captures = std::vector<std::pair<std::string, std::string>>;

struct pattern_error {
  std::size_t column = 0;  ///< 0-based, in the pattern text
  std::string message;
};

class pattern {
 public:
  /// nullopt and `err` filled when the text is not a valid pattern.
  static std::optional<pattern> compile(std::string_view text, pattern_error& err);

  /// Whole-line match; on success appends the captured values to `out`.
  [[nodiscard]] bool match(std::string_view line, captures* out = nullptr) const;
  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

 private:
  std::shared_ptr<const re2::RE2> re_;
  std::vector<std::string> names_;
  std::string text_;
};

/// Replaces {name} by its captured value for every name in `known`; any
/// other text, "{{" included, is left as it is (so a v1 transcript served as
/// a script sends exactly what it recorded).
std::string substitute(std::string_view text, const captures& values, const std::vector<std::string>& known);

/// Last value captured under `name`, or nullptr.
const std::string* find_capture(const captures& values, std::string_view name);

}  // namespace smtpkit::mock
