// runtime_scripts.cpp — scripts that change while the server runs
// (view.hpp): the command line's, and those Mailpit's Chaos API and
// smtpkit's script API set.
#include "smtpkit/mock/server/script_factory.hpp"
#include "smtpkit/mock/view/view.hpp"

#include <map>

namespace smtpkit::mock::view {

struct runtime_scripts::state {
  std::vector<script> fixed;
  std::map<std::string, script> extra;  // "api", "chaos": tried before the fixed ones
  std::shared_ptr<server::behaviour_factory> current =
      std::make_shared<server::behaviour_factory>();  // empty: the reference server alone

  void rebuild() {
    std::vector<script> all;
    // Chaos first: a trigger must fire whatever the other scripts answer.
    for (const char* slot : {"chaos", "api"})
      if (auto it = extra.find(slot); it != extra.end()) all.push_back(it->second);
    all.insert(all.end(), fixed.begin(), fixed.end());
    *current = all.empty() ? server::behaviour_factory{} : script_factory(std::move(all));
  }
};

runtime_scripts::runtime_scripts(std::vector<script> fixed) : p_(std::make_shared<state>()) {
  p_->fixed = std::move(fixed);
  p_->rebuild();
}

server::behaviour_factory runtime_scripts::factory() { return switchable_factory(p_->current); }

void runtime_scripts::set(const std::string& slot, std::optional<script> s) {
  if (s) p_->extra[slot] = std::move(*s);
  else p_->extra.erase(slot);
  p_->rebuild();
}

bool runtime_scripts::any() const { return !p_->fixed.empty() || !p_->extra.empty(); }
bool runtime_scripts::fixed() const { return !p_->fixed.empty(); }

}  // namespace smtpkit::mock::view
