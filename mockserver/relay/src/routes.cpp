// routes.cpp — the route table (smtpkit/mock/relay/routes.hpp).
#include "smtpkit/mock/relay/routes.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "smtpkit/ascii.hpp"
#include "smtpkit/mock/common/endpoint.hpp"

namespace smtpkit::mock::relay {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower_ascii(c);
  return out;
}

// A domain as a route names it: a name of letters, digits, '-' and '.',
// optionally led by '.', or "*".
bool valid_domain(std::string_view d) {
  if (d == "*") return true;
  if (!d.empty() && d.front() == '.') d.remove_prefix(1);
  if (d.empty() || d.size() > 255) return false;
  return std::all_of(d.begin(), d.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

}  // namespace

std::string next_hop::describe() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool route_table::add_hop(std::string domain, next_hop h, std::string& why) {
  if (!valid_domain(domain)) {
    why = "'" + domain + "' is not a domain (expected a name, .name for its subdomains, or *)";
    return false;
  }
  domain = lower(domain);
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const route& r) { return r.domain == domain; });
  if (it == routes_.end()) {
    routes_.push_back({domain, {}});
    it = routes_.end() - 1;
  }
  it->hops.push_back(std::move(h));
  std::stable_sort(it->hops.begin(), it->hops.end(),
                   [](const next_hop& a, const next_hop& b) { return a.preference < b.preference; });
  return true;
}

bool route_table::add(std::string_view spec, std::string& why) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    why = "expected DOMAIN=HOST:PORT[,HOST:PORT...]";
    return false;
  }
  std::string domain(spec.substr(0, eq));
  std::string_view hops = spec.substr(eq + 1);
  int pref = 0;
  while (!hops.empty()) {
    auto comma = hops.find(',');
    std::string_view one = hops.substr(0, comma);
    hops = comma == std::string_view::npos ? std::string_view{} : hops.substr(comma + 1);
    next_hop h;
    std::string reason;
    if (!parse_endpoint(one, {}, h.host, h.port, reason)) {
      why = std::string(one) + ": " + reason;
      return false;
    }
    h.preference = pref;
    pref += 10;
    if (!add_hop(domain, std::move(h), why)) return false;
  }
  return true;
}

bool route_table::add_local(std::string_view domain, std::string& why) {
  if (!valid_domain(domain) || domain == "*") {
    why = "'" + std::string(domain) + "' is not a domain";
    return false;
  }
  local_.push_back(lower(domain));
  return true;
}

bool route_table::load(const std::string& path, std::string& why) {
  std::ifstream in(path);
  if (!in) {
    why = path + ": cannot read the routes file";
    return false;
  }
  std::string line;
  std::size_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    const auto where = [&] { return path + ":" + std::to_string(no) + ": "; };
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string domain, second, third, extra;
    if (!(words >> domain)) continue;
    words >> second >> third >> extra;
    if (second == "local" && third.empty()) {
      if (!add_local(domain, why)) return (why = where() + why), false;
      continue;
    }
    if (second.empty() || third.empty() || !extra.empty()) {
      why = where() + "expected DOMAIN PREFERENCE HOST:PORT, or DOMAIN local";
      return false;
    }
    next_hop h;
    try {
      std::size_t used = 0;
      h.preference = std::stoi(second, &used);
      if (used != second.size() || h.preference < 0 || h.preference > 65535) throw std::invalid_argument(second);
    } catch (const std::exception&) {
      why = where() + "preference '" + second + "' is not a number from 0 to 65535 (RFC 5321 §5.1)";
      return false;
    }
    std::string reason;
    if (!parse_endpoint(third, {}, h.host, h.port, reason)) {
      why = where() + third + ": " + reason;
      return false;
    }
    if (!add_hop(domain, std::move(h), why)) return (why = where() + why), false;
  }
  return true;
}

const route* route_table::find(std::string_view address) const {
  const auto at = address.rfind('@');
  std::string domain = lower(at == std::string_view::npos ? std::string_view{} : address.substr(at + 1));
  // An address literal ("[127.0.0.1]") names a host, not a routed domain.
  if (domain.empty() || domain.front() == '[') return nullptr;
  auto is_local = [&](const std::string& l) {
    if (l.front() == '.') return domain.size() > l.size() && domain.compare(domain.size() - l.size(), l.size(), l) == 0;
    return domain == l;
  };
  if (std::any_of(local_.begin(), local_.end(), is_local)) return nullptr;
  const route* best = nullptr;
  const route* any = nullptr;
  std::size_t best_len = 0;
  for (const auto& r : routes_) {
    if (r.domain == "*") {
      any = &r;
      continue;
    }
    bool hit = false;
    if (r.domain.front() == '.')
      hit = domain.size() > r.domain.size() &&
            domain.compare(domain.size() - r.domain.size(), r.domain.size(), r.domain) == 0;
    else hit = domain == r.domain;
    // An exact name beats a subdomain route; a longer suffix beats a shorter.
    const std::size_t len = r.domain.front() == '.' ? r.domain.size() : r.domain.size() + 1000;
    if (hit && len > best_len) {
      best = &r;
      best_len = len;
    }
  }
  return best != nullptr ? best : any;
}

}  // namespace smtpkit::mock::relay
