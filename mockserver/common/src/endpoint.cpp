// endpoint.cpp — endpoints as users write them on the command line
// (smtpkit/mock/common/endpoint.hpp), one parser for every verb.
#include "smtpkit/mock/common/endpoint.hpp"

#include <string>

namespace smtpkit::mock {

bool parse_endpoint(std::string_view s, const endpoint_rules& rules, std::string& host, std::uint16_t& port,
                    std::string& why) {
  const std::string expected = rules.default_host.empty() ? "expected HOST:PORT" : "expected HOST:PORT or PORT";
  std::string_view h = rules.default_host, p = s;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      why = expected + " ([IPv6]:PORT for an IPv6 address)";
      return false;
    }
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else if (const auto colon = s.rfind(':'); colon != std::string_view::npos) {
    if (colon > 0) h = s.substr(0, colon);
    p = s.substr(colon + 1);
  } else if (rules.default_host.empty()) {
    why = expected;
    return false;
  }
  if (h.empty() || p.empty() || p.find_first_not_of("0123456789") != std::string_view::npos) {
    why = expected;
    return false;
  }
  const auto digits = p.find_first_not_of('0');
  const std::string_view significant = digits == std::string_view::npos ? std::string_view("0") : p.substr(digits);
  if (significant.size() > 5 || std::stoul(std::string(significant)) > 65535 ||
      (!rules.any_port && significant == "0")) {
    why = "port " + std::string(p) + " is out of range (" + (rules.any_port ? "0" : "1") + "-65535" +
          (rules.any_port ? ", 0: any free port)" : ")");
    return false;
  }
  host = std::string(h);
  port = static_cast<std::uint16_t>(std::stoul(std::string(significant)));
  return true;
}

}  // namespace smtpkit::mock
