// report_json.hpp — the JSON document of a report (report_json.cpp), which
// the JSON writer prints and the HTML report embeds for its page to read.
#pragma once

#include <nlohmann/json.hpp>

#include "smtpkit/conformance/report.hpp"

namespace smtpkit::conformance::detail {

nlohmann::ordered_json json_document(const report& r, const report_options& o);

}  // namespace smtpkit::conformance::detail
