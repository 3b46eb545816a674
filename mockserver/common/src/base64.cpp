// base64.cpp — RFC 4648 §4 base64.
#include "smtpkit/mock/common/base64.hpp"

#include <array>

namespace smtpkit::mock {
namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::array<int, 256> make_rev() {
  std::array<int, 256> r{};
  for (auto& v : r) v = -1;
  for (int i = 0; i < 64; ++i) r[static_cast<unsigned char>(alphabet[i])] = i;
  return r;
}
constexpr auto rev = make_rev();
}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                 static_cast<unsigned char>(in[i + 2]);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int a = rev[static_cast<unsigned char>(in[i])];
    int b = rev[static_cast<unsigned char>(in[i + 1])];
    bool last = i + 4 == in.size();
    int c = in[i + 2] == '=' && last ? 0 : rev[static_cast<unsigned char>(in[i + 2])];
    int d = in[i + 3] == '=' && last ? 0 : rev[static_cast<unsigned char>(in[i + 3])];
    if (a < 0 || b < 0 || c < 0 || d < 0) return std::nullopt;
    if (in[i + 2] == '=' && in[i + 3] != '=') return std::nullopt;
    unsigned v = static_cast<unsigned>(a << 18 | b << 12 | c << 6 | d);
    out += static_cast<char>(v >> 16);
    if (in[i + 2] != '=') out += static_cast<char>((v >> 8) & 255);
    if (in[i + 3] != '=') out += static_cast<char>(v & 255);
  }
  return out;
}

}  // namespace smtpkit::mock
