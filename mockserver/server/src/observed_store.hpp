// observed_store.hpp — a message store that tells the server's observers
// (observer.hpp) of each message it commits, right after the commit and
// before the client's 250: the web view lists it, POP3 serves it.
#pragma once

#include <functional>
#include <memory>

#include "smtpkit/mock/server/observer.hpp"
#include "storage.hpp"

namespace smtpkit::mock {

using stored_hook = std::function<void(const stored_message&, const nlohmann::ordered_json& envelope)>;

/// `inner`, with `hook` called for every successful commit.
std::unique_ptr<message_store> observe_store(std::unique_ptr<message_store> inner, stored_hook hook);

}  // namespace smtpkit::mock
