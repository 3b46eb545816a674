// observed_store.cpp — the store decorator of observed_store.hpp.
#include "observed_store.hpp"

namespace smtpkit::mock {
namespace {

void notify(const stored_hook& hook, const stored& s, const nlohmann::ordered_json& envelope) {
  stored_message m;
  if (auto it = envelope.find("session"); it != envelope.end() && it->is_string()) m.session = it->get<std::string>();
  m.id = s.id;
  m.path = s.path;
  m.envelope_path = s.envelope_path;
  m.size = s.size;
  m.sha256 = s.sha256;
  nlohmann::ordered_json env = envelope;
  env["size"] = s.size;
  env["sha256"] = s.sha256;
  hook(m, env);
}

class observed_writer final : public message_writer {
 public:
  observed_writer(std::unique_ptr<message_writer> inner, const stored_hook& hook)
      : inner_(std::move(inner)), hook_(hook) {}
  void write(std::string_view octets) override { inner_->write(octets); }
  stored commit(const nlohmann::ordered_json& envelope, std::shared_ptr<commit_ticket>& ticket) override {
    stored s = inner_->commit(envelope, ticket);
    // A durable store's message is seen when its group is committed (complete()).
    if (s.ok && !s.pending) notify(hook_, s, envelope);
    return s;
  }
  void abort() override { inner_->abort(); }
  [[nodiscard]] std::uint64_t size() const override { return inner_->size(); }

 private:
  std::unique_ptr<message_writer> inner_;
  const stored_hook& hook_;
};

class observed_store final : public message_store {
 public:
  observed_store(std::unique_ptr<message_store> inner, stored_hook hook)
      : inner_(std::move(inner)), hook_(std::move(hook)) {}
  std::unique_ptr<message_writer> begin() override { return std::make_unique<observed_writer>(inner_->begin(), hook_); }
  [[nodiscard]] bool keeps_envelopes() const override { return inner_->keeps_envelopes(); }
  [[nodiscard]] bool pending() const override { return inner_->pending(); }
  std::unique_ptr<commit_group> take() override { return inner_->take(); }
  void write(commit_group& g) override { inner_->write(g); }
  void complete(commit_group& g) override {
    inner_->complete(g);
    for (const auto& m : g.members) {
      const stored& r = m.ticket->result;
      if (!r.ok) {
        note_failure(r.error);
        continue;
      }
      // The journal line: {"id", "file", "envelope"}.
      auto line = nlohmann::ordered_json::parse(m.line, nullptr, false);
      const bool has = !line.is_discarded() && line.contains("envelope");
      notify(hook_, r, has ? line["envelope"] : nlohmann::ordered_json::object());
    }
  }

 private:
  std::unique_ptr<message_store> inner_;
  stored_hook hook_;
};

}  // namespace

std::unique_ptr<message_store> observe_store(std::unique_ptr<message_store> inner, stored_hook hook) {
  return std::make_unique<observed_store>(std::move(inner), std::move(hook));
}

}  // namespace smtpkit::mock
