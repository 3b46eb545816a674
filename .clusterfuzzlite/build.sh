#!/bin/bash -eu
# .clusterfuzzlite/build.sh — builds smtpkit's fuzz targets the way
# OSS-Fuzz and ClusterFuzzLite expect: with their $CXX, $CXXFLAGS and
# $LIB_FUZZING_ENGINE, binaries and their seed corpora
# (<target>_seed_corpus.zip) and dictionaries (<target>.dict) in $OUT,
# intermediate files in $WORK. oss-fuzz/build.sh is the same script.
#
# The targets to build are read from fuzz/CMakeLists.txt, so adding a
# smtpkit_fuzz_target() line there is enough — for targets that link only the
# grammar library (smtpkit::parser), its test hooks (smtpkit::
# parser_test_support: parser/src/test_support.hpp, whose code is among the
# library's objects here) and the reference grammar. Targets that
# need other layers (Boost.Asio, fmt, ...) are skipped here with a note: the
# base image does not carry those libraries.
# The compiler is called directly, not through CMake, so the build needs
# nothing beyond what the base image has (clang, python3).

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
while read -r name source libs; do
  objs=("${lib_objs[@]}")
  includes=()
  ok=1
  for lib in $libs; do
    case "$lib" in
      smtpkit::parser) ;;
      smtpkit::parser_test_support) includes+=(-I"$root/parser/src") ;;
      smtpkit_fuzz_reference) objs+=("${ref_objs[@]}") ;;
      *) ok=0; echo "build.sh: skipping fuzz_$name (needs $lib)" ;;
    esac
  done
  [ "$ok" = 1 ] || continue
  $CXX "${cxx_flags[@]}" "${includes[@]}" -c "$root/fuzz/$source" -o "$work/fuzz_$name.o"
  $CXX $CXXFLAGS "$work/fuzz_$name.o" "${objs[@]}" $LIB_FUZZING_ENGINE -o "$OUT/fuzz_$name"
  cp "$root/fuzz/smtp.dict" "$OUT/fuzz_$name.dict"
  if [ -d "$root/corpus/$name" ]; then zip_dir "$root/corpus/$name" "$OUT/fuzz_${name}_seed_corpus.zip"; fi
  built=$((built + 1))
done < <(sed -n 's/^ *smtpkit_fuzz_target(\([A-Za-z0-9_]*\) \([^ ]*\) LIBS \(.*\))$/\1 \2 \3/p' "$root/fuzz/CMakeLists.txt")

echo "build.sh: $built fuzz targets in $OUT"
[ "$built" -gt 0 ]
