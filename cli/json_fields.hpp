// cli/json_fields.hpp — the parsed parts of commands, replies, paths and
// hosts as JSON objects (the "fields" of `smtpkit parse`, docs/cli.md).
#pragma once

#include <nlohmann/json.hpp>

#include "smtpkit/command.hpp"
#include "smtpkit/path.hpp"
#include "smtpkit/reply.hpp"

namespace smtpkit::cli {

nlohmann::ordered_json to_json(const host& h);
nlohmann::ordered_json to_json(const mailbox& m);
nlohmann::ordered_json to_json(const path& p);
nlohmann::ordered_json to_json(const command& c);
nlohmann::ordered_json to_json(const reply& r, parse_options opts);
nlohmann::ordered_json to_json(const ehlo_info& e);

/// A JSON string for arbitrary octets: valid UTF-8 is kept, other octets are
/// written with the dialogue format's escapes.
std::string json_text(std::string_view bytes);

}  // namespace smtpkit::cli
