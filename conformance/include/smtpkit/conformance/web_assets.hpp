// smtpkit/conformance/web_assets.hpp — the page assets compiled into the
// binary (conformance/web/, embedded by cmake/embed.cmake): the dialogue
// ladder renderer shared by the HTML report and the mock server's web view,
// and the report page around it. Pages built from them need no network.
#pragma once

#include <string_view>

namespace smtpkit::conformance::web {

/// ladder.js / ladder.css: a dialogue drawn as a ladder with its findings pinned.
std::string_view ladder_script() noexcept;
std::string_view ladder_style() noexcept;
/// report.js / report.css: the HTML report's page.
std::string_view report_script() noexcept;
std::string_view report_style() noexcept;

}  // namespace smtpkit::conformance::web
