// session_log.cpp — recent sessions, kept within bounds, rendered as
// transcripts with findings and times on their lines (session_log.hpp).
#include "session_log.hpp"

#include <algorithm>
#include <ctime>

namespace smtpkit::mock::view {
namespace {

constexpr std::size_t max_findings = 1000;
constexpr std::size_t max_pieces = 1u << 16;

std::int64_t since(const session_record& s) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - s.started).count();
}

}  // namespace

std::int64_t now_unix_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string rfc3339(std::int64_t unix_us) {
  std::time_t secs = static_cast<std::time_t>(unix_us / 1000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(unix_us % 1000000));
  return buf;
}

std::shared_ptr<session_record> session_log::open(const std::string& id, const std::string& peer, bool tls) {
  auto s = std::make_shared<session_record>();
  s->id = id;
  s->peer = peer;
  s->implicit_tls = tls;
  s->tls = tls;
  s->opened_unix_us = now_unix_us();
  s->started = std::chrono::steady_clock::now();
  if (tls) s->pieces.push_back({session_record::kind::tls, side::client, 0, 0, 0, 0});
  order_.push_back(s);
  by_id_[id] = s;
  touch(*s);
  evict();
  return s;
}

void session_log::octets(session_record& s, side who, std::string_view bytes) {
  const int w = static_cast<int>(who);
  const std::uint64_t at = s.octets[w];
  s.octets[w] += bytes.size();
  std::size_t keep = 0;
  // Once octets were dropped, keep none: a transcript cut at one place
  // reads true; one with holes would not.
  if (s.dropped == 0 && s.pieces.size() < max_pieces) {
    const std::size_t room_session = lim_.max_session_octets - std::min(lim_.max_session_octets, s.wire.size());
    const std::size_t room_total = lim_.max_total_octets - std::min(lim_.max_total_octets, total_);
    keep = std::min({bytes.size(), room_session, room_total});
  }
  if (keep > 0) {
    s.pieces.push_back({session_record::kind::octets, who, since(s), at, s.wire.size(), keep});
    s.wire.append(bytes.substr(0, keep));
    total_ += keep;
  }
  s.dropped += bytes.size() - keep;
  touch(s);
}

void session_log::tls(session_record& s) {
  s.tls = true;
  if (s.pieces.size() < max_pieces) s.pieces.push_back({session_record::kind::tls, side::client, since(s), 0, 0, 0});
  touch(s);
}

void session_log::closed(session_record& s, side who) {
  if (s.pieces.size() < max_pieces) s.pieces.push_back({session_record::kind::close, who, since(s), 0, 0, 0});
  touch(s);
}

void session_log::finding(session_record& s, const json& event, side anchor) {
  ++s.finding_count;
  if (s.findings.size() < max_findings) s.findings.emplace_back(event, anchor);
  touch(s);
}

void session_log::ended(session_record& s, std::size_t findings) {
  s.open = false;
  s.closed_unix_us = now_unix_us();
  s.finding_count = std::max(s.finding_count, findings);
  touch(s);
  evict();
}

void session_log::message(const std::string& session, const std::string& id) {
  if (auto it = by_id_.find(session); it != by_id_.end()) {
    it->second->messages.push_back(id);
    touch(*it->second);
  }
}

void session_log::evict() {
  // The oldest closed sessions go first; open ones stay (the server bounds
  // them with --max-sessions, and their octets by the total above).
  auto over = [&] { return order_.size() > lim_.max_sessions || total_ > lim_.max_total_octets; };
  for (auto it = order_.begin(); over() && it != order_.end();) {
    if ((*it)->open) {
      ++it;
      continue;
    }
    total_ -= std::min(total_, (*it)->wire.size());
    by_id_.erase((*it)->id);
    it = order_.erase(it);
  }
}

std::shared_ptr<session_record> session_log::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<session_record>> session_log::list() const { return {order_.rbegin(), order_.rend()}; }

json session_log::summary(const session_record& s) {
  json j{{"id", s.id},
         {"peer", s.peer},
         {"opened", rfc3339(s.opened_unix_us)},
         {"closed", s.open ? json(nullptr) : json(rfc3339(s.closed_unix_us))},
         {"state", s.open ? "open" : "closed"},
         {"tls", s.tls},
         {"findings", s.finding_count},
         {"messages", s.messages},
         {"octets", {{"client", s.octets[0]}, {"server", s.octets[1]}}},
         {"dropped", s.dropped}};
  json levels = json::object();
  for (const auto& [f, anchor] : s.findings) {
    const std::string lvl = f.value("level", "");
    if (!f.contains("waived")) levels[lvl] = levels.value(lvl, 0) + 1;
  }
  j["levels"] = levels;
  return j;
}

std::string session_log::transcript(const session_record& s) {
  transcript_writer w;
  w.comment("smtpkit serve: session " + s.id + " from " + s.peer);
  for (const auto& p : s.pieces) {
    switch (p.what) {
      case session_record::kind::octets: w.sent(p.who, std::string_view(s.wire).substr(p.begin, p.length)); break;
      case session_record::kind::tls: w.tls(); break;
      case session_record::kind::close: w.close(p.who); break;
    }
  }
  w.flush();
  if (s.dropped > 0)
    w.comment(std::to_string(s.dropped) +
              " more octets were not kept (the web view keeps a bounded part of each session)");
  return w.take();
}

json session_log::detail(const session_record& s) {
  json j = summary(s);
  const std::string text = transcript(s);
  j["transcript"] = text;
  auto rr = read_transcript(text, s.id);
  // Each sending record: its side, where it starts in that side's stream, its line.
  struct anchor {
    side who;
    std::uint64_t start;
    std::size_t line;
  };
  std::vector<anchor> anchors;
  json times = json::object();
  if (rr.ok()) {
    std::uint64_t off[2] = {0, 0};
    std::size_t piece[2] = {0, 0};
    std::size_t tls_seen = 0, close_seen = 0;
    auto nth_marker = [&](session_record::kind k, std::size_t n) -> const session_record::piece* {
      for (const auto& p : s.pieces)
        if (p.what == k && n-- == 0) return &p;
      return nullptr;
    };
    for (const auto& rec : rr.value->records) {
      if (rec.sends()) {
        const int w = static_cast<int>(rec.who);
        anchors.push_back({rec.who, off[w], rec.line});
        // The piece that carried this record's first octet.
        auto& k = piece[w];
        while (k < s.pieces.size()) {
          const auto& p = s.pieces[k];
          if (p.what == session_record::kind::octets && p.who == rec.who && off[w] < p.side_offset + p.length) break;
          ++k;
        }
        if (k < s.pieces.size()) times[std::to_string(rec.line)] = static_cast<double>(s.pieces[k].at_us) / 1000.0;
        off[w] += rec.bytes().size();
      } else if (rec.kind == record_kind::directive && (rec.name == "tls" || rec.name == "close")) {
        const bool is_tls = rec.name == "tls";
        if (auto* p = nth_marker(is_tls ? session_record::kind::tls : session_record::kind::close,
                                 is_tls ? tls_seen++ : close_seen++))
          times[std::to_string(rec.line)] = static_cast<double>(p->at_us) / 1000.0;
      }
    }
  }
  json findings = json::array();
  for (const auto& [f, who] : s.findings) {
    const std::uint64_t offset = f.value("offset", std::uint64_t{0});
    std::size_t line = 0;
    for (const auto& a : anchors)
      if (a.who == who && a.start <= offset) line = a.line;
    if (line == 0 && !anchors.empty()) line = anchors.front().line;
    json g{{"line", line},
           {"rule", f.value("rule", "")},
           {"level", f.value("level", "")},
           {"side", f.value("side", "")},
           {"message", f.value("message", "")},
           {"rfc", f.value("rfc", "")},
           {"excerpt", f.value("excerpt", "")},
           {"offset", offset}};
    if (auto w = f.find("waived"); w != f.end() && w->is_object()) g["waived"] = w->value("reason", "waived");
    if (f.contains("script")) {
      g["script"] = f.value("script", "");
      g["script_line"] = f.value("script_line", 0);
    }
    findings.push_back(std::move(g));
  }
  j["findings"] = std::move(findings);
  j["times"] = std::move(times);
  return j;
}

}  // namespace smtpkit::mock::view
