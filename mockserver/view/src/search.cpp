// search.cpp — Mailpit's search filters over the mailbox (search.hpp).
#include "search.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace smtpkit::mock::view {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has(std::string_view hay, std::string_view needle) { return lower(hay).find(needle) != std::string::npos; }

bool any_address(const std::vector<address>& list, std::string_view v) {
  for (const auto& a : list)
    if (has(a.addr, v) || has(a.name, v)) return true;
  return false;
}

// "10K", "2M", "512" → octets; 0 when not a size.
std::uint64_t size_of(std::string_view v) {
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) != 0; ++i)
    n = n * 10 + static_cast<std::uint64_t>(v[i] - '0');
  if (i == 0) return 0;
  std::string_view unit = v.substr(i);
  if (unit == "k" || unit == "kb") return n << 10;
  if (unit == "m" || unit == "mb") return n << 20;
  if (unit == "g" || unit == "gb") return n << 30;
  return unit.empty() || unit == "b" ? n : 0;
}

// "2026-01-31" → Unix microseconds at 00:00 UTC; -1 when not a date.
std::int64_t day_of(std::string_view v) {
  std::tm tm{};
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return -1;
  try {
    tm.tm_year = std::stoi(std::string(v.substr(0, 4))) - 1900;
    tm.tm_mon = std::stoi(std::string(v.substr(5, 2))) - 1;
    tm.tm_mday = std::stoi(std::string(v.substr(8, 2)));
  } catch (...) {
    return -1;
  }
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000000;
}

bool term_matches(const search_term& t, const mail& m, const summary* s) {
  const std::string& f = t.field;
  const std::string& v = t.value;
  if (f == "is") {
    if (v == "read") return m.read;
    if (v == "unread") return !m.read;
    return false;  // is:tagged — there are no tags
  }
  if (f == "has") return (v == "attachment" || v == "attachments") && s != nullptr && s->attachment_count > 0;
  if (f == "larger") return m.size >= size_of(v);
  if (f == "smaller") return m.size < size_of(v);
  if (f == "before" || f == "after") {
    const std::int64_t day = day_of(v);
    if (day < 0) return false;
    return f == "before" ? m.received_us < day : m.received_us >= day + 86400LL * 1000000;
  }
  if (s == nullptr) return false;
  const auto& p = s->fields;
  if (f.empty()) return s->search.find(v) != std::string::npos;
  if (f == "from") return any_address(p.from, v);
  if (f == "to") return any_address(p.to, v);
  if (f == "cc") return any_address(p.cc, v);
  if (f == "bcc") return any_address(p.bcc, v);
  if (f == "subject") return has(p.subject, v);
  if (f == "message-id") return has(p.message_id, v);
  return false;  // tag: and filters not known
}

}  // namespace

std::vector<search_term> parse_search(std::string_view q) {
  std::vector<search_term> out;
  std::size_t i = 0;
  while (i < q.size()) {
    while (i < q.size() && std::isspace(static_cast<unsigned char>(q[i])) != 0) ++i;
    if (i >= q.size()) break;
    search_term t;
    if (q[i] == '-' || q[i] == '!') {
      t.negated = true;
      ++i;
    }
    // field:value, field:"a phrase", "a phrase", word
    std::string word;
    bool quoted = false;
    while (i < q.size() && (quoted || std::isspace(static_cast<unsigned char>(q[i])) == 0)) {
      if (q[i] == '"') {
        quoted = !quoted;
        ++i;
        continue;
      }
      if (q[i] == ':' && !quoted && t.field.empty() && !word.empty()) {
        t.field = lower(word);
        word.clear();
        ++i;
        continue;
      }
      word += q[i++];
    }
    t.value = lower(word);
    static constexpr std::string_view known[] = {"from", "to",     "cc",      "bcc",    "subject", "message-id", "is",
                                                 "has",  "larger", "smaller", "before", "after",   "tag"};
    if (!t.field.empty() && std::find(std::begin(known), std::end(known), t.field) == std::end(known)) {
      t.value = t.field + ":" + t.value;  // not a filter: a word with a colon
      t.field.clear();
    }
    if (t.value.empty() && t.field.empty()) continue;
    out.push_back(std::move(t));
  }
  return out;
}

bool matches(const std::vector<search_term>& terms, const mail& m, const summary* s) {
  for (const auto& t : terms)
    if (term_matches(t, m, s) == t.negated) return false;
  return true;
}

}  // namespace smtpkit::mock::view
