// ledger.hpp — the findings of one session and the rules applied to it
// (engine.hpp: findings(), applied(), suppressed()). Both judges and the
// event plumbing record their verdicts here, through check().
//
// A rule counts as applied when its check ran, whether it held or not;
// check() is the only way to mark one, so what the reports list as checked
// (JSON `applied`, JUnit test cases) cannot drift from what was judged.
#pragma once

#include <bitset>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "smtpkit/conformance/engine.hpp"

namespace smtpkit::conformance {

class ledger {
 public:
  explicit ledger(const engine_options& o)
      : judge_client_(o.judge_client), judge_server_(o.judge_server), max_per_rule_(o.max_per_rule) {}

  /// One check of `rule`: marks it applied and, when `broken`, records a
  /// finding. `message` and `excerpt` are text or a callable returning it,
  /// called only for a finding: the mock server judges every line of every
  /// session, and almost all of them break nothing. A negative rule (an
  /// error no rule publishes) is ignored.
  template <class Message, class Excerpt = std::string_view>
  void check(int rule, bool broken, side anchor, std::uint64_t offset, const Message& message,
             const Excerpt& excerpt = {}) {
    if (rule < 0) return;
    applied_.set(static_cast<std::size_t>(rule));
    if (broken) record(rule, anchor, offset, text_of(message), text_of(excerpt));
  }
  template <class Message, class Excerpt = std::string_view>
  void check(rk rule, bool broken, side anchor, std::uint64_t offset, const Message& message,
             const Excerpt& excerpt = {}) {
    check(index(rule), broken, anchor, offset, message, excerpt);
  }

  /// Marks a rule applied whose check runs item by item — each MAIL/RCPT
  /// parameter, each EHLO keyword, each anomaly in mail data — and ran even
  /// when there was no item; the items' findings come from check().
  void applies(int rule) {
    if (rule >= 0) applied_.set(static_cast<std::size_t>(rule));
  }
  void applies(rk rule) { applies(index(rule)); }

  [[nodiscard]] const std::vector<finding>& findings() const noexcept { return found_; }
  [[nodiscard]] std::size_t suppressed(int rule) const noexcept {
    for (const auto& [r, c] : counts_)
      if (r == rule) return c > max_per_rule_ ? c - max_per_rule_ : 0;
    return 0;
  }
  [[nodiscard]] std::vector<int> applied() const;
  void listen(std::function<void(const finding&)> fn) { listener_ = std::move(fn); }

 private:
  template <class T>
  static decltype(auto) text_of(const T& t) {
    if constexpr (std::is_invocable_v<const T&>) return t();
    else return (t);
  }
  [[nodiscard]] bool judged(side binds) const noexcept { return binds == side::client ? judge_client_ : judge_server_; }
  void record(int rule, side anchor, std::uint64_t offset, std::string message, std::string_view excerpt);

  bool judge_client_;
  bool judge_server_;
  std::size_t max_per_rule_;
  std::vector<finding> found_;
  // Occurrences per rule, only for rules that fired (usually none).
  std::vector<std::pair<std::uint16_t, std::uint32_t>> counts_;
  std::bitset<512> applied_;  // per rule index; the catalogue is smaller
  std::function<void(const finding&)> listener_;
};

}  // namespace smtpkit::conformance
