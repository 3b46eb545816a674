// observed_store.cpp — the store decorator of observed_store.hpp.
#include "observed_store.hpp"

namespace smtpkit::mock {
namespace {

class observed_writer final : public message_writer {
 public:
  observed_writer(std::unique_ptr<message_writer> inner, const stored_hook& hook)
      : inner_(std::move(inner)), hook_(hook) {}
  void write(std::string_view octets) override { inner_->write(octets); }
  stored commit(const nlohmann::ordered_json& envelope) override {
    stored s = inner_->commit(envelope);
    if (!s.ok) return s;
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
    hook_(m, env);
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

 private:
  std::unique_ptr<message_store> inner_;
  stored_hook hook_;
};

}  // namespace

std::unique_ptr<message_store> observe_store(std::unique_ptr<message_store> inner, stored_hook hook) {
  return std::make_unique<observed_store>(std::move(inner), std::move(hook));
}

}  // namespace smtpkit::mock
