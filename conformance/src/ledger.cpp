// ledger.cpp — findings and applied rules of one session (ledger.hpp): a
// side left unjudged (engine_options) records nothing and lists nothing,
// and each rule stores at most max_per_rule findings, counting the rest.
#include "ledger.hpp"

namespace smtpkit::conformance {

void ledger::record(int rule, side anchor, std::uint64_t offset, std::string message, std::string_view excerpt) {
  if (!judged(catalogue()[static_cast<std::size_t>(rule)].binds)) return;
  std::uint32_t* count = nullptr;
  for (auto& [r, n] : counts_)
    if (r == rule) {
      count = &n;
      break;
    }
  if (count == nullptr) count = &counts_.emplace_back(static_cast<std::uint16_t>(rule), 0).second;
  if (++*count > max_per_rule_) return;
  finding f;
  f.rule = rule;
  f.anchor = anchor;
  f.offset = offset;
  f.message = std::move(message);
  f.excerpt = std::string(excerpt);
  found_.push_back(std::move(f));
  if (listener_) listener_(found_.back());
}

std::vector<int> ledger::applied() const {
  std::vector<int> out;
  const auto cat = catalogue();
  for (std::size_t i = 0; i < cat.size() && i < applied_.size(); ++i)
    if (applied_.test(i) && judged(cat[i].binds)) out.push_back(static_cast<int>(i));
  return out;
}

}  // namespace smtpkit::conformance
