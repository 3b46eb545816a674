// mime.cpp — reading stored messages with GMime (mime.hpp).
#include "mime.hpp"

#include <gmime/gmime.h>
#include <openssl/evp.h>

#include <cctype>
#include <memory>

namespace smtpkit::mock::view {
namespace {

struct unref {
  void operator()(void* p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <class T>
using gptr = std::unique_ptr<T, unref>;

struct gfree {
  void operator()(char* p) const { g_free(p); }
};
using gstring = std::unique_ptr<char, gfree>;

std::string str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }
std::string take(char* s) {
  gstring owned(s);
  return str(s);
}

// Mail crosses the wire with CRLF (RFC 5322 §2.1); a text shown or compared
// by a test reads as lines ending in LF, as Mailpit's do.
std::string unix_lines(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
  return out;
}

void init() {
  static const bool done = [] {
    g_mime_init();
    return true;
  }();
  (void)done;
}

gptr<GMimeMessage> parse(std::string_view raw) {
  init();
  gptr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  gptr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  return gptr<GMimeMessage>(g_mime_parser_construct_message(parser.get(), nullptr));
}

void addresses(InternetAddressList* list, std::vector<address>& out) {
  if (list == nullptr) return;
  const int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(a)) {
      addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)), out);
    } else if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      out.push_back(
          {str(internet_address_get_name(a)), str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)))});
    }
  }
}

std::string hex_digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += digits[out[i] >> 4];
    s += digits[out[i] & 15];
  }
  return s;
}

std::string mime_type(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  return ct != nullptr ? take(g_mime_content_type_get_mime_type(ct)) : std::string("application/octet-stream");
}

std::string file_name(GMimeObject* obj) {
  if (GMIME_IS_PART(obj)) return str(g_mime_part_get_filename(GMIME_PART(obj)));
  std::string n = str(g_mime_object_get_content_disposition_parameter(obj, "filename"));
  return n.empty() ? str(g_mime_object_get_content_type_parameter(obj, "name")) : n;
}

// The octets of a part as a reader gets them: transfer encoding undone; a
// message/rfc822 part as the message it holds.
std::string decoded(GMimeObject* obj) {
  gptr<GMimeStream> mem(g_mime_stream_mem_new());
  if (GMIME_IS_PART(obj)) {
    GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
    if (w == nullptr) return {};
    g_mime_data_wrapper_write_to_stream(w, mem.get());
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (inner == nullptr) return {};
    g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, mem.get());
  } else {
    return {};
  }
  GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  return a != nullptr ? std::string(reinterpret_cast<const char*>(a->data), a->len) : std::string();
}

struct leaf {
  GMimeObject* obj;
  std::string path;
  std::string parent_type;  // "multipart/related", ... ("" at the top)
};

void walk(GMimeObject* obj, const std::string& path, const std::string& parent, std::vector<leaf>& out) {
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    const std::string type = mime_type(obj);
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i)
      walk(g_mime_multipart_get_part(mp, i), path.empty() ? std::to_string(i + 1) : path + "." + std::to_string(i + 1),
           type, out);
    return;
  }
  out.push_back({obj, path.empty() ? std::string("1") : path, parent});
}

std::vector<leaf> leaves(GMimeMessage* m) {
  std::vector<leaf> out;
  if (GMimeObject* body = g_mime_message_get_mime_part(m)) walk(body, "", "", out);
  return out;
}

bool is_attachment(GMimeObject* obj) {
  GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj);
  return d != nullptr && g_mime_content_disposition_is_attachment(d);
}

}  // namespace

parsed_message parse_message(std::string_view raw) {
  parsed_message r;
  auto m = parse(raw);
  if (!m) return r;
  r.ok = true;
  addresses(g_mime_message_get_from(m.get()), r.from);
  addresses(g_mime_message_get_addresses(m.get(), GMIME_ADDRESS_TYPE_TO), r.to);
  addresses(g_mime_message_get_addresses(m.get(), GMIME_ADDRESS_TYPE_CC), r.cc);
  addresses(g_mime_message_get_addresses(m.get(), GMIME_ADDRESS_TYPE_BCC), r.bcc);
  addresses(g_mime_message_get_reply_to(m.get()), r.reply_to);
  r.subject = str(g_mime_message_get_subject(m.get()));
  r.message_id = str(g_mime_message_get_message_id(m.get()));
  if (GDateTime* d = g_mime_message_get_date(m.get())) r.date = g_date_time_to_unix(d);
  GMimeObject* top = GMIME_OBJECT(m.get());
  r.return_path = str(g_mime_object_get_header(top, "Return-Path"));
  if (GMimeHeaderList* h = g_mime_object_get_header_list(top)) {
    const int n = g_mime_header_list_get_count(h);
    for (int i = 0; i < n; ++i) {
      GMimeHeader* f = g_mime_header_list_get_header_at(h, i);
      std::string value = str(g_mime_header_get_value(f));
      r.headers.emplace_back(str(g_mime_header_get_name(f)),
                             take(g_mime_utils_header_decode_text(nullptr, value.c_str())));
    }
  }
  bool have_text = false, have_html = false;
  for (const leaf& l : leaves(m.get())) {
    const std::string type = mime_type(l.obj);
    const std::string name = file_name(l.obj);
    if (GMIME_IS_TEXT_PART(l.obj) && !is_attachment(l.obj) && name.empty()) {
      if (type == "text/plain" && !have_text) {
        r.text = unix_lines(take(g_mime_text_part_get_text(GMIME_TEXT_PART(l.obj))));
        have_text = true;
        continue;
      }
      if (type == "text/html" && !have_html) {
        r.html = unix_lines(take(g_mime_text_part_get_text(GMIME_TEXT_PART(l.obj))));
        have_html = true;
        continue;
      }
    }
    const std::string bytes = decoded(l.obj);
    attachment a;
    a.part_id = l.path;
    a.file_name = name;
    a.content_type = type;
    a.content_id = str(g_mime_object_get_content_id(l.obj));
    a.size = bytes.size();
    a.md5 = hex_digest(EVP_md5(), bytes);
    a.sha1 = hex_digest(EVP_sha1(), bytes);
    a.sha256 = hex_digest(EVP_sha256(), bytes);
    const char* disp = g_mime_object_get_disposition(l.obj);
    const bool inline_part = (disp != nullptr && g_ascii_strcasecmp(disp, "inline") == 0) ||
                             (!a.content_id.empty() && l.parent_type == "multipart/related" && !is_attachment(l.obj));
    (inline_part ? r.inlines : r.attachments).push_back(std::move(a));
  }
  return r;
}

std::optional<part_content> message_part(std::string_view raw, std::string_view part_id) {
  auto m = parse(raw);
  if (!m) return std::nullopt;
  for (const leaf& l : leaves(m.get())) {
    if (l.path != part_id) continue;
    part_content c;
    c.content_type = mime_type(l.obj);
    if (const char* cs = g_mime_object_get_content_type_parameter(l.obj, "charset"))
      c.content_type += std::string("; charset=") + cs;
    c.file_name = file_name(l.obj);
    c.bytes = decoded(l.obj);
    return c;
  }
  return std::nullopt;
}

std::string html_to_text(std::string_view html) {
  std::string out;
  bool space = true;
  auto put = [&](char ch) {
    if (std::isspace(static_cast<unsigned char>(ch)) != 0) {
      if (!space) out += ' ';
      space = true;
    } else {
      out += ch;
      space = false;
    }
  };
  for (std::size_t i = 0; i < html.size();) {
    const char ch = html[i];
    if (ch == '<') {
      std::size_t end = html.find('>', i);
      if (end == std::string_view::npos) break;
      std::string tag;
      for (std::size_t k = i + 1; k < end && std::isalpha(static_cast<unsigned char>(html[k])) != 0; ++k)
        tag += static_cast<char>(std::tolower(static_cast<unsigned char>(html[k])));
      i = end + 1;
      if (tag == "script" || tag == "style" || tag == "head") {
        const std::string close = "</" + tag;
        std::size_t at = i;
        for (; at < html.size(); ++at)
          if (html[at] == '<' && g_ascii_strncasecmp(html.data() + at, close.c_str(), close.size()) == 0) break;
        end = html.find('>', at);
        i = end == std::string_view::npos ? html.size() : end + 1;
      }
      put(' ');
      continue;
    }
    if (ch == '&') {
      static constexpr std::pair<std::string_view, char> entities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&nbsp;", ' '}};
      bool done = false;
      for (const auto& [name, value] : entities)
        if (html.substr(i, name.size()) == name) {
          put(value);
          i += name.size();
          done = true;
          break;
        }
      if (done) continue;
    }
    put(ch);
    ++i;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace smtpkit::mock::view
