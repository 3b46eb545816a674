// escape.cpp — escapes of the dialogue format (docs/dialogue-format.md):
// octets that are not well-formed UTF-8 (RFC 3629 §4) or are controls are
// written as \xHH.
#include "smtpkit/escape.hpp"

#include "smtpkit/utf8.hpp"

namespace smtpkit {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void put_hex(std::string& out, unsigned char c) {
  out += "\\x";
  out.push_back(hex_digits[c >> 4]);
  out.push_back(hex_digits[c & 15]);
}

}  // namespace

bool unescape(std::string_view s, std::string& out, unescape_error& err) {
  out.clear();
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      if (i + 1 >= s.size()) {
        err = {i, "expected an escape after '\\' (\\\\, \\r, \\n, \\t, \\0 or \\xHH)"};
        return false;
      }
      char e = s[i + 1];
      switch (e) {
        case '\\':
          out.push_back('\\');
          i += 2;
          continue;
        case 'r':
          out.push_back('\r');
          i += 2;
          continue;
        case 'n':
          out.push_back('\n');
          i += 2;
          continue;
        case 't':
          out.push_back('\t');
          i += 2;
          continue;
        case '0':
          out.push_back('\0');
          i += 2;
          continue;
        case 'x': {
          int hi = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
          int lo = i + 3 < s.size() ? hex_value(s[i + 3]) : -1;
          if (hi < 0 || lo < 0) {
            err = {i, "expected two hex digits after '\\x'"};
            return false;
          }
          out.push_back(static_cast<char>(hi * 16 + lo));
          i += 4;
          continue;
        }
        default:
          err = {i, std::string("invalid escape '\\") + e + "' (expected \\\\, \\r, \\n, \\t, \\0 or \\xHH)"};
          return false;
      }
    }
    if (c < 0x20 && c != '\t') {
      std::string m = "raw control octet 0x";
      m.push_back(hex_digits[c >> 4]);
      m.push_back(hex_digits[c & 15]);
      err = {i, m + " (write it as an escape)"};
      return false;
    }
    if (c == 0x7F) {
      err = {i, "raw DEL octet (write it as \\x7f)"};
      return false;
    }
    if (c >= 0x80) {
      std::size_t n = utf8_sequence(s, i);
      if (n == 0) {
        err = {i, "ill-formed UTF-8 (write such octets as \\xHH)"};
        return false;
      }
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    out.push_back(static_cast<char>(c));
    ++i;
  }
  return true;
}

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      case '\0':
        out += "\\0";
        ++i;
        continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      put_hex(out, c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      std::size_t n = utf8_sequence(s, i);
      if (n == 0) {
        put_hex(out, c);
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    if (c == ' ' && i + 1 == s.size()) {
      out += "\\x20";
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(c));
    ++i;
  }
  return out;
}

}  // namespace smtpkit
