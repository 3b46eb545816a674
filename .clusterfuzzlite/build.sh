#!/bin/bash -eu
# .clusterfuzzlite/build.sh — builds smtpkit's fuzz targets the way
# OSS-Fuzz and ClusterFuzzLite expect: with their $CXX, $CXXFLAGS and
# $LIB_FUZZING_ENGINE, binaries and their seed corpora
# (<target>_seed_corpus.zip) and dictionaries (<target>.dict) in $OUT,
# intermediate files in $WORK. oss-fuzz/build.sh is the same script.
#
# The targets to build are read from fuzz/CMakeLists.txt, so adding a
# smtpkit_fuzz_target() line there is enough. Targets that link only the
# grammar library (smtpkit::parser), its test hooks (smtpkit::
# parser_test_support: parser/src/test_support.hpp, whose code is among the
# library's objects here) and the reference grammar are compiled by calling
# the compiler directly, so they need nothing beyond what the base image
# has (clang, python3).
# Targets that need other layers (the conformance engine, the mock server,
# smtpkit::fuzz — among them the in-process harness fuzz_inprocess_server)
# are built through CMake, with the libraries the Dockerfile installs
# (Boost.Asio, OpenSSL, fmt, yaml-cpp, nlohmann-json, CLI11, RE2), in the
# `fuzz` preset's configuration: SMTPKIT_FUZZ=ON, linked with
# $LIB_FUZZING_ENGINE. Two differences from the direct build follow from
# that: those targets always carry ASan + UBSan (cmake/smtpkit_options.cmake
# adds them; fine for the address and undefined builds, not for MSan), and
# -stdlib=libc++ is dropped from $CXXFLAGS for them, since the distribution's
# C++ libraries (yaml-cpp, RE2, fmt) are built against libstdc++.
# SMTPKIT_CFL_CMAKE=0 skips them (with a note), as before they were.

root="${SMTPKIT_SRC:-${SRC:-}/smtpkit}"
if [ ! -f "$root/parser/CMakeLists.txt" ]; then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fi
work="${WORK:-/tmp}/smtpkit-fuzz-build"
rm -rf "$work"
mkdir -p "$work" "$OUT"

cxx_flags=($CXXFLAGS -std=c++20 -I"$root/parser/include" -I"$root/fuzz")

# The grammar library.
lib_objs=()
for src in "$root"/parser/src/*.cpp; do
  obj="$work/parser_$(basename "${src%.cpp}").o"
  $CXX "${cxx_flags[@]}" -c "$src" -o "$obj"
  lib_objs+=("$obj")
done

# The reference grammar: the .abnf files as raw string literals, written by
# the same CMake script the CMake build uses.
text="$work/reference_text.cpp"
cmake -DOUT="$text" -DNAMESPACE=smtpkit::reference::text -DSTEM_ONLY=ON \
  "-DIN=$root/fuzz/reference/core.abnf|$root/fuzz/reference/smtp.abnf|$root/fuzz/reference/smtputf8.abnf" \
  -P "$root/cmake/embed.cmake"
ref_objs=()
for src in "$root/fuzz/reference/abnf.cpp" "$root/fuzz/reference/grammar.cpp" "$text"; do
  obj="$work/reference_$(basename "${src%.cpp}").o"
  $CXX "${cxx_flags[@]}" -c "$src" -o "$obj"
  ref_objs+=("$obj")
done

zip_dir() {  # zip_dir DIR ARCHIVE — files only, flat, as the engines expect
  python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if os.path.isfile(path):
            z.write(path, name)
PY
}

built=0
cmake_targets=()
while read -r name source libs; do
  objs=("${lib_objs[@]}")
  includes=()
  ok=1
  for lib in $libs; do
    case "$lib" in
      smtpkit::parser) ;;
      smtpkit::parser_test_support) includes+=(-I"$root/parser/src") ;;
      smtpkit_fuzz_reference) objs+=("${ref_objs[@]}") ;;
      *) ok=0 ;;
    esac
  done
  if [ "$ok" = 0 ]; then
    cmake_targets+=("$name")
    continue
  fi
  $CXX "${cxx_flags[@]}" "${includes[@]}" -c "$root/fuzz/$source" -o "$work/fuzz_$name.o"
  $CXX $CXXFLAGS "$work/fuzz_$name.o" "${objs[@]}" $LIB_FUZZING_ENGINE -o "$OUT/fuzz_$name"
  cp "$root/fuzz/smtp.dict" "$OUT/fuzz_$name.dict"
  if [ -d "$root/corpus/$name" ]; then zip_dir "$root/corpus/$name" "$OUT/fuzz_${name}_seed_corpus.zip"; fi
  built=$((built + 1))
done < <(sed -n 's/^ *smtpkit_fuzz_target(\([A-Za-z0-9_]*\) \([^ ]*\) LIBS \(.*\))$/\1 \2 \3/p' "$root/fuzz/CMakeLists.txt")

# The other targets, through CMake (see above).
if [ "${#cmake_targets[@]}" -gt 0 ] && [ "${SMTPKIT_CFL_CMAKE:-1}" = 0 ]; then
  echo "build.sh: skipping ${cmake_targets[*]} (SMTPKIT_CFL_CMAKE=0; they need CMake and the libraries of the Dockerfile)"
elif [ "${#cmake_targets[@]}" -gt 0 ]; then
  cmake_flags=()
  for f in $CXXFLAGS; do [ "$f" = -stdlib=libc++ ] || cmake_flags+=("$f"); done
  generator=()
  if command -v ninja >/dev/null; then generator=(-G Ninja); fi
  cmake -S "$root" -B "$work/cmake" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="${cmake_flags[*]}" \
    -DSMTPKIT_FUZZ=ON -DSMTPKIT_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" -DSMTPKIT_TESTS=OFF -DSMTPKIT_BENCH=OFF
  cmake --build "$work/cmake" -j "$(nproc)" --target "${cmake_targets[@]/#/fuzz_}"
  for name in "${cmake_targets[@]}"; do
    cp "$work/cmake/fuzz/fuzz_$name" "$OUT/fuzz_$name"
    cp "$root/fuzz/smtp.dict" "$OUT/fuzz_$name.dict"
    if [ -d "$root/corpus/$name" ]; then zip_dir "$root/corpus/$name" "$OUT/fuzz_${name}_seed_corpus.zip"; fi
    built=$((built + 1))
  done
fi

echo "build.sh: $built fuzz targets in $OUT"
[ "$built" -gt 0 ]
