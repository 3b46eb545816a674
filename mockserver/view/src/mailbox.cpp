// mailbox.cpp — the Maildir's messages, their flags and summaries (mailbox.hpp).
#include "mailbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "session_log.hpp"

namespace smtpkit::mock::view {
namespace {

constexpr std::size_t cache_entries = 5000;
constexpr std::size_t search_text_max = 16u << 10;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "1767225600.M123456P4242Q1.host:2,S" → queue id "1767225600.M123456P4242Q1".
std::string id_of(const std::string& name) {
  std::string base = name.substr(0, name.find(':'));
  const std::size_t first = base.find('.');
  if (first == std::string::npos) return base;
  const std::size_t second = base.find('.', first + 1);
  return base.substr(0, second);
}

bool inside(const std::string& path, const std::string& dir) {
  return !dir.empty() && path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/' && path.find("/../") == std::string::npos;
}

std::string collapse(std::string_view s, std::size_t max) {
  std::string out;
  bool space = true;
  for (char c : s) {
    if (out.size() >= max) break;
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (!space) out += ' ';
      space = true;
    } else {
      out += c;
      space = false;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  // Never end inside a UTF-8 sequence.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0) out.pop_back();
  return out;
}

}  // namespace

std::optional<std::string> read_file(const std::string& path, std::uint64_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[1u << 16];
  while (out.size() < max) {
    ssize_t n = ::read(fd, buf, std::min<std::uint64_t>(sizeof buf, max - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

mailbox::mailbox(std::string maildir, std::uint64_t max_read) : dir_(std::move(maildir)), max_read_(max_read) {}

void mailbox::insert(mail m) {
  m.seq = next_seq_++;
  if (!m.read) ++unread_;
  by_id_[m.id] = m.seq;
  by_seq_.emplace(m.seq, std::move(m));
}

void mailbox::scan() {
  if (dir_.empty()) return;
  struct found {
    std::int64_t us;
    std::string name, sub;
  };
  std::vector<found> list;
  for (const char* sub : {"new", "cur"}) {
    DIR* d = ::opendir((dir_ + "/" + sub).c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.empty() || name[0] == '.') continue;
      std::int64_t us = 0;
      std::size_t dot = name.find('.');
      // maildir(5) names start with the time: SECS.MUSEC...
      if (dot != std::string::npos && dot > 0 && std::all_of(name.begin(), name.begin() + dot, ::isdigit)) {
        us = std::stoll(name.substr(0, dot)) * 1000000;
        if (name.compare(dot + 1, 1, "M") == 0) {
          std::size_t end = name.find_first_not_of("0123456789", dot + 2);
          if (end > dot + 2) us += std::stoll(name.substr(dot + 2, end - dot - 2));
        }
      }
      list.push_back({us, name, sub});
    }
    ::closedir(d);
  }
  std::sort(list.begin(), list.end(),
            [](const found& a, const found& b) { return std::tie(a.us, a.name) < std::tie(b.us, b.name); });
  for (auto& f : list) {
    mail m;
    m.path = dir_ + "/" + f.sub + "/" + f.name;
    struct stat st {};
    if (::stat(m.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    m.id = id_of(f.name);
    if (by_id_.count(m.id) != 0) continue;
    m.size = static_cast<std::uint64_t>(st.st_size);
    m.received_us = f.us != 0 ? f.us : static_cast<std::int64_t>(st.st_mtime) * 1000000;
    const std::size_t flags = f.name.find(":2,");
    m.read = flags != std::string::npos && f.name.find('S', flags) != std::string::npos;
    const std::string base = f.name.substr(0, f.name.find(':'));
    const std::string env = dir_ + "/envelope/" + base + ".json";
    if (auto text = read_file(env, 1u << 20)) {
      m.envelope = json::parse(*text, nullptr, false);
      if (m.envelope.is_discarded()) m.envelope = nullptr;
      else m.envelope_path = env;
    }
    // m.session stays empty: a session of an earlier run is not one of this run.
    insert(std::move(m));
  }
}

const mail& mailbox::add(const stored_message& s, const json& envelope) {
  mail m;
  m.id = s.id;
  m.path = s.path;
  m.envelope_path = s.envelope_path;
  m.session = s.session;
  m.size = s.size;
  m.received_us = now_unix_us();
  m.envelope = envelope;
  ++accepted;
  accepted_size += s.size;
  insert(std::move(m));
  return by_seq_.rbegin()->second;
}

const mail* mailbox::find(std::string_view id) const {
  if (id == "latest") return by_seq_.empty() ? nullptr : &by_seq_.rbegin()->second;
  auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return nullptr;
  return &by_seq_.at(it->second);
}

std::vector<const mail*> mailbox::newest_first() const {
  std::vector<const mail*> out;
  out.reserve(by_seq_.size());
  for (auto it = by_seq_.rbegin(); it != by_seq_.rend(); ++it) out.push_back(&it->second);
  return out;
}

bool mailbox::remove(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  auto m = by_seq_.find(it->second);
  // Only what the store wrote inside the Maildir is ever deleted.
  if (inside(m->second.path, dir_)) ::unlink(m->second.path.c_str());
  if (inside(m->second.envelope_path, dir_)) ::unlink(m->second.envelope_path.c_str());
  if (!m->second.read) --unread_;
  if (auto c = cached_.find(id); c != cached_.end()) {
    lru_.erase(c->second);
    cached_.erase(c);
  }
  by_seq_.erase(m);
  by_id_.erase(it);
  ++deleted;
  return true;
}

void mailbox::set_read(const std::string& id, bool read) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  mail& m = by_seq_.at(it->second);
  if (m.read == read) return;
  m.read = read;
  if (read) --unread_;
  else ++unread_;
}

std::optional<std::string> mailbox::raw(const mail& m) const {
  if (m.path.empty()) return std::nullopt;
  return read_file(m.path, max_read_);
}

std::shared_ptr<const summary> mailbox::summary_of(const mail& m) {
  if (auto c = cached_.find(m.id); c != cached_.end()) {
    lru_.splice(lru_.begin(), lru_, c->second);
    return c->second->second;
  }
  auto text = raw(m);
  if (!text) return nullptr;
  auto s = std::make_shared<summary>();
  s->fields = parse_message(*text);
  std::string body = s->fields.text.empty() ? html_to_text(s->fields.html) : s->fields.text;
  s->snippet = collapse(body, 250);
  std::string search = s->fields.subject + "\n";
  auto add = [&](const std::vector<address>& list) {
    for (const auto& a : list) search += a.name + " " + a.addr + "\n";
  };
  add(s->fields.from);
  add(s->fields.to);
  add(s->fields.cc);
  add(s->fields.bcc);
  for (const auto& a : s->fields.attachments) search += a.file_name + "\n";
  search += collapse(body, search_text_max);
  s->search = lower(search);
  s->attachment_count = s->fields.attachments.size();
  s->fields.text.clear();
  s->fields.html.clear();
  s->fields.headers.clear();
  lru_.emplace_front(m.id, s);
  cached_[m.id] = lru_.begin();
  if (lru_.size() > cache_entries) {
    cached_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return s;
}

}  // namespace smtpkit::mock::view
