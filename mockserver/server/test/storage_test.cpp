// storage_test.cpp — the Maildir store's commit, every failure point made
// to fail by a fault-injecting fs_ops: creating or writing the message in
// tmp/, appending its envelope line (also half of it), renaming it into
// new/, and with --durable (group commit) the syncfs, a rename in the
// middle of a group, opening and fsyncing new/. Whatever fails, each message
// ends with both its file in new/ and its line in envelopes.jsonl, or
// neither, and the outcome says which; nothing is left in tmp/.
// Limits: one process; a concurrent writer of the journal is simulated by
// appending to it from the test.
#include "storage.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace smtpkit::mock {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// Which call fails: the `nth` call (1-based) of `op` whose path (or, for
// calls on a descriptor, any) contains `where`; it fails with `err`, and a
// write may first write `partial` octets.
struct fault {
  std::string op;
  int nth = 1;
  std::string where;
  int err = ENOSPC;
  long partial = 0;
};

fault g_fault;
std::vector<std::string> g_calls;
int g_seen = 0;
bool g_fail_next_write = false;  // after a partial write, the disk is full

bool hit(const char* op, const char* path = "") {
  g_calls.push_back(std::string(op) + " " + path);
  if (g_fault.op != op) return false;
  if (!g_fault.where.empty() && std::strstr(path, g_fault.where.c_str()) == nullptr) return false;
  return ++g_seen == g_fault.nth;
}

int f_open(const char* p, int flags, unsigned mode) {
  if (hit("open", p)) return errno = g_fault.err, -1;
  return real_fs().open(p, flags, mode);
}
long f_write(int fd, const void* b, unsigned long n) {
  if (g_fail_next_write) {
    g_fail_next_write = false;
    return errno = g_fault.err, -1;
  }
  if (hit("write")) {
    if (g_fault.partial > 0 && static_cast<unsigned long>(g_fault.partial) < n) {
      g_fail_next_write = true;
      return real_fs().write(fd, b, static_cast<unsigned long>(g_fault.partial));
    }
    return errno = g_fault.err, -1;
  }
  return real_fs().write(fd, b, n);
}
int f_close(int fd) { return real_fs().close(fd); }
int f_rename(const char* a, const char* b) {
  if (hit("rename", b)) return errno = g_fault.err, -1;
  return real_fs().rename(a, b);
}
int f_unlink(const char* p) { return real_fs().unlink(p); }
int f_fsync(int fd) {
  if (hit("fsync")) return errno = g_fault.err, -1;
  return real_fs().fsync(fd);
}
int f_syncfs(int fd) {
  if (hit("syncfs")) return errno = g_fault.err, -1;
  return real_fs().syncfs(fd);
}
int f_ftruncate(int fd, long n) { return real_fs().ftruncate(fd, n); }

constexpr fs_ops faulty{f_open, f_write, f_close, f_rename, f_unlink, f_fsync, f_syncfs, f_ftruncate};

std::vector<std::string> names_in(const fs::path& d) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(d)) v.push_back(e.path().filename().string());
  return v;
}

std::vector<json> journal_of(const fs::path& dir) {
  std::vector<json> v;
  std::ifstream f(dir / "envelopes.jsonl");
  std::string line;
  while (std::getline(f, line)) v.push_back(json::parse(line));
  return v;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class storage_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/smtpkit-storage-test-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
    g_fault = {};
    g_calls.clear();
    g_seen = 0;
    g_fail_next_write = false;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<message_store> store(bool durable) { return message_store::maildir(dir_.string(), durable, faulty); }

  // One message through a writer; its ticket (durable) in `ticket`.
  static stored put(message_store& s, const std::string& body, std::shared_ptr<commit_ticket>& ticket) {
    auto w = s.begin();
    const std::size_t first = std::min<std::size_t>(body.size(), 70000);  // over 64 KiB: to tmp/ at once
    w->write(body.substr(0, first));
    w->write(body.substr(first));
    stored r = w->commit(json{{"session", "s000001"}, {"mail_from", "a@example.test"}}, ticket);
    return r;
  }

  // Every message: in new/ with its line, or in neither. `ok` the outcomes.
  void expect_both_or_neither(const std::vector<stored>& outcomes) {
    std::set<std::string> in_new;
    for (const auto& n : names_in(dir_ / "new")) in_new.insert(n);
    std::set<std::string> lines;
    for (const auto& l : journal_of(dir_)) {
      if (l.contains("withdrawn")) {
        lines.erase(l["id"].get<std::string>());
        continue;
      }
      lines.insert(l["id"].get<std::string>());
    }
    EXPECT_TRUE(names_in(dir_ / "tmp").empty()) << "left in tmp/";
    std::size_t ok = 0;
    for (const auto& r : outcomes) {
      bool file = false;
      for (const auto& n : in_new)
        if (n.rfind(r.id + ".", 0) == 0) file = true;
      const bool line = lines.count(r.id) > 0;
      EXPECT_EQ(file, line) << r.id << ": message in new/ " << file << ", envelope line " << line;
      EXPECT_EQ(r.ok, file) << r.id << ": said " << (r.ok ? "stored" : "not stored") << " (" << r.error << ")";
      if (r.ok) ++ok;
    }
    EXPECT_EQ(in_new.size(), ok);
    EXPECT_EQ(lines.size(), ok);
  }

  fs::path dir_;
};

TEST_F(storage_test, a_message_and_its_line) {
  auto s = store(false);
  std::shared_ptr<commit_ticket> t;
  stored r = put(*s, "Subject: x\r\n\r\nbody\r\n", t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(t);
  EXPECT_EQ(read_file(r.path), "Subject: x\r\n\r\nbody\r\n");
  auto lines = journal_of(dir_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["id"], r.id);
  EXPECT_EQ(lines[0]["file"], "new/" + fs::path(r.path).filename().string());
  EXPECT_EQ(lines[0]["envelope"]["mail_from"], "a@example.test");
  EXPECT_EQ(lines[0]["envelope"]["size"], 20);
  EXPECT_EQ(r.envelope_path, (dir_ / "envelopes.jsonl").string());
  EXPECT_EQ(r.envelope_offset, 0u);
  stored r2 = put(*s, "second", t);
  ASSERT_TRUE(r2.ok);
  EXPECT_EQ(r2.envelope_offset, read_file(dir_ / "envelopes.jsonl").find("{\"id\":\"" + r2.id));
  expect_both_or_neither({r, r2});
}

// Not durable: file in tmp/, line, rename. Each step fails in turn.
struct point {
  const char* name;
  fault f;
};

class commit_point : public storage_test, public ::testing::WithParamInterface<point> {};

TEST_P(commit_point, fails_to_neither) {
  auto s = store(false);
  std::shared_ptr<commit_ticket> t;
  stored before = put(*s, "before\r\n", t);  // a message already there stays
  ASSERT_TRUE(before.ok);
  g_fault = GetParam().f;
  g_seen = 0;
  stored r = put(*s, std::string(100000, 'x'), t);  // over 64 KiB: written to tmp/ in two pieces
  EXPECT_FALSE(r.ok) << GetParam().name;
  EXPECT_FALSE(r.error.empty());
  g_fault = {};
  stored after = put(*s, "after\r\n", t);  // and the store goes on
  EXPECT_TRUE(after.ok) << after.error;
  expect_both_or_neither({before, r, after});
}

INSTANTIATE_TEST_SUITE_P(storage, commit_point,
                         ::testing::Values(point{"create in tmp/", {"open", 1, "/tmp/"}},
                                           point{"write in tmp/, first piece", {"write", 1, ""}},
                                           point{"write in tmp/, second piece", {"write", 2, ""}},
                                           point{"open in tmp/ again", {"open", 2, "/tmp/"}},
                                           point{"append the line", {"write", 3, ""}},
                                           point{"append half the line", {"write", 3, "", ENOSPC, 40}},
                                           point{"rename into new/", {"rename", 1, "/new/"}},
                                           point{"rename into new/, EIO", {"rename", 1, "/new/", EIO}}),
                         [](const ::testing::TestParamInfo<point>& p) {
                           std::string n = p.param.name;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST_F(storage_test, a_failed_rename_after_another_writer_appended_withdraws_the_line) {
  std::shared_ptr<commit_ticket> t;
  // Another process appends right after our line: the file cannot be cut back.
  struct other {
    static int rename(const char* a, const char*) {
      std::ofstream(fs::path(a).parent_path().parent_path() / "envelopes.jsonl", std::ios::app)
          << "{\"id\":\"other\",\"file\":\"new/other\",\"envelope\":{}}\n";
      errno = ENOSPC;
      return -1;
    }
  };
  fs_ops ops = faulty;
  ops.rename = other::rename;
  auto s2 = message_store::maildir(dir_.string(), false, ops);
  stored r = put(*s2, "x", t);
  EXPECT_FALSE(r.ok);
  auto lines = journal_of(dir_);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["id"], r.id);
  EXPECT_EQ(lines[1]["id"], "other");
  EXPECT_EQ(lines[2]["id"], r.id);
  EXPECT_TRUE(lines[2].contains("withdrawn"));
  EXPECT_TRUE(names_in(dir_ / "new").empty());
  EXPECT_TRUE(names_in(dir_ / "tmp").empty());
}

// Durable: a group of three; lines, syncfs, renames, fsync of new/.
class group_point : public storage_test, public ::testing::WithParamInterface<point> {};

TEST_P(group_point, fails_the_whole_group_to_neither) {
  auto s = store(true);
  std::vector<std::shared_ptr<commit_ticket>> tickets(3);
  std::vector<stored> outcomes;
  g_fault = GetParam().f;
  for (int i = 0; i < 3; ++i) {
    stored r = put(*s, "message " + std::to_string(i) + "\r\n", tickets[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(r.pending);
    ASSERT_FALSE(r.ok);
  }
  EXPECT_TRUE(names_in(dir_ / "new").empty());  // nothing visible before the group commit
  EXPECT_TRUE(s->pending());
  s->flush();
  EXPECT_FALSE(s->pending());
  for (auto& t : tickets) {
    ASSERT_TRUE(t->done);
    outcomes.push_back(t->result);
    EXPECT_FALSE(t->result.ok) << GetParam().name;
  }
  expect_both_or_neither(outcomes);
  EXPECT_EQ(s->failures(), 3u);
}

INSTANTIATE_TEST_SUITE_P(storage, group_point,
                         ::testing::Values(point{"append the lines", {"write", 4, ""}},
                                           point{"append half the lines", {"write", 4, "", ENOSPC, 50}},
                                           point{"syncfs", {"syncfs", 1, "", EIO}},
                                           point{"first rename", {"rename", 1, "/new/"}},
                                           point{"rename in the middle", {"rename", 2, "/new/"}},
                                           point{"last rename", {"rename", 3, "/new/"}},
                                           point{"open new/", {"open", 1, "/new"}},
                                           point{"fsync new/", {"fsync", 1, "", EIO}}),
                         [](const ::testing::TestParamInfo<point>& p) {
                           std::string n = p.param.name;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST_F(storage_test, a_group_commit_syncs_once_and_in_order) {
  auto s = store(true);
  std::vector<std::shared_ptr<commit_ticket>> tickets(3);
  for (int i = 0; i < 3; ++i) put(*s, "m" + std::to_string(i), tickets[static_cast<std::size_t>(i)]);
  g_calls.clear();
  s->flush();
  // One write of the lines, one syncfs, the renames, one fsync of new/.
  std::vector<std::string> kinds;
  for (const auto& c : g_calls) kinds.push_back(c.substr(0, c.find(' ')));
  EXPECT_EQ(kinds, (std::vector<std::string>{"write", "syncfs", "rename", "rename", "rename", "open", "fsync"}));
  std::vector<stored> outcomes;
  std::uint64_t offset = 0;
  const std::string text = read_file(dir_ / "envelopes.jsonl");
  for (auto& t : tickets) {
    ASSERT_TRUE(t->done && t->result.ok) << t->result.error;
    EXPECT_EQ(t->result.envelope_offset, text.find("{\"id\":\"" + t->result.id));
    EXPECT_GE(t->result.envelope_offset, offset);
    offset = t->result.envelope_offset;
    outcomes.push_back(t->result);
  }
  expect_both_or_neither(outcomes);
}

TEST_F(storage_test, an_aborted_message_leaves_nothing) {
  auto s = store(false);
  auto w = s->begin();
  w->write(std::string(70000, 'y'));  // spilled to tmp/ already
  EXPECT_EQ(names_in(dir_ / "tmp").size(), 1u);
  w->abort();
  EXPECT_TRUE(names_in(dir_ / "tmp").empty());
  EXPECT_TRUE(journal_of(dir_).empty());
}

}  // namespace
}  // namespace smtpkit::mock
