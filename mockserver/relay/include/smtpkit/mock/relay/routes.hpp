// smtpkit/mock/relay/routes.hpp — where mail for a domain goes next: the
// route table of `smtpkit serve --route/--routes/--local-domain`.
//
// A route names a domain and its next hops in order of preference, the way
// MX records order a domain's servers (RFC 5321 §5.1: the lowest
// preference first; a hop that cannot be reached, or that greets with 4xx
// or 5xx, gives way to the next). Domains compare case-insensitively;
// "example.test" is that domain only, ".example.test" its subdomains, and
// "*" every domain no other route names. A local domain is never routed,
// even when "*" would take it: its mail is stored, as without routes.
//
// Routes file (--routes), one hop per line:
//   # domain      preference  next hop
//   example.test  10          127.0.0.1:2526
//   example.test  20          127.0.0.1:2527
//   *             10          127.0.0.1:2600
//   here.test     local
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smtpkit::mock::relay {

struct next_hop {
  std::string host;
  std::uint16_t port = 0;
  int preference = 0;
  [[nodiscard]] std::string describe() const;
};

struct route {
  std::string domain;          ///< "example.test", ".example.test" or "*"
  std::vector<next_hop> hops;  ///< by preference, lowest first
};

class route_table {
 public:
  /// "DOMAIN=HOST:PORT[,HOST:PORT...]" (hops in the order given); false and
  /// why when malformed.
  bool add(std::string_view spec, std::string& why);
  /// A routes file (format above); `why` names the file and line.
  bool load(const std::string& path, std::string& why);
  /// Mail for this domain is stored here, never routed.
  bool add_local(std::string_view domain, std::string& why);

  /// The route for the domain of `address` ("user@domain"), or null when
  /// its mail stays here (a local domain, or no route takes it).
  [[nodiscard]] const route* find(std::string_view address) const;
  [[nodiscard]] bool empty() const noexcept { return routes_.empty(); }
  [[nodiscard]] const std::vector<route>& routes() const noexcept { return routes_; }

 private:
  bool add_hop(std::string domain, next_hop h, std::string& why);
  std::vector<route> routes_;
  std::vector<std::string> local_;
};

}  // namespace smtpkit::mock::relay
