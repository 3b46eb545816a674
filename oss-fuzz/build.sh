#!/bin/bash -eu
# oss-fuzz/build.sh — OSS-Fuzz entry point for smtpkit: the build itself is
# the repository's .clusterfuzzlite/build.sh (same $CXX, $CXXFLAGS,
# $LIB_FUZZING_ENGINE and $OUT contract), so the two never drift apart.
exec "$SRC/smtpkit/.clusterfuzzlite/build.sh"
