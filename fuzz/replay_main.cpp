// fuzz/replay_main.cpp — the `main` a fuzz target is linked with when
// libFuzzer is not (SMTPKIT_FUZZ=OFF): it runs LLVMFuzzerTestOneInput once
// over every file named on the command line, descending into directories,
// so each target's seed corpus and crash regressions run under ctest with
// any compiler.
//
// Usage: fuzz_<name> PATH...   (files or directories; sorted, so runs repeat)
// Exit status: 0 when every input ran; 2 when a path is missing or no input
// was found (a wrong corpus path must not pass silently). A broken invariant
// traps, which ctest reports as a failure.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool collect(const fs::path& p, std::vector<fs::path>& out) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) {
    out.push_back(p);
    return true;
  }
  if (!fs::is_directory(p, ec)) return false;
  for (const auto& e : fs::recursive_directory_iterator(p, ec))
    if (e.is_regular_file()) out.push_back(e.path());
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (!collect(argv[i], files)) {
      std::fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "%s: no inputs (usage: %s FILE-OR-DIR...)\n", argv[0], argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "%s: cannot read %s\n", argv[0], f.c_str());
      return 2;
    }
    // An empty vector's data() may be null; targets must see a valid pointer.
    static const std::uint8_t empty = 0;
    const auto* data = bytes.empty() ? &empty : reinterpret_cast<const std::uint8_t*>(bytes.data());
    LLVMFuzzerTestOneInput(data, bytes.size());
  }
  std::printf("%s: %zu inputs ran\n", argv[0], files.size());
  return 0;
}
