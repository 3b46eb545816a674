# Compiler flags shared by every smtpkit target.
add_library(smtpkit_flags INTERFACE)
add_library(smtpkit::flags ALIAS smtpkit_flags)
target_compile_options(smtpkit_flags INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>
  # GCC 12 reports -Wrestrict inside libstdc++ for string concatenation
  # (GCC bug 105651), a false positive in code we do not own.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)

# Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
# clang-14 with libstdc++ does not switch Asio's coroutine support on by itself.
set(SMTPKIT_ASIO_DEFINES BOOST_ASIO_NO_DEPRECATED)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  list(APPEND SMTPKIT_ASIO_DEFINES BOOST_ASIO_HAS_CO_AWAIT BOOST_ASIO_HAS_STD_COROUTINE)
endif()

if(SMTPKIT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Coroutines under clang-14's UBSan 'function' check do not compile.
    add_compile_options(-fno-sanitize=function)
  endif()
endif()

if(SMTPKIT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SMTPKIT_FUZZ needs clang (use the 'fuzz' preset)")
  endif()
  # Instrument everything for coverage; the fuzzer main is linked per target.
  # UBSan must stop at the first report, or libFuzzer never sees the bug.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize=function
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Run a test binary from the source tree so corpus paths are stable.
function(smtpkit_gtest name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE GTest::gtest_main GTest::gmock smtpkit::flags)
  # EXPECT_* inside an unbraced if trips -Wdangling-else (a GoogleTest macro shape).
  target_compile_options(${name} PRIVATE $<$<CXX_COMPILER_ID:GNU,Clang>:-Wno-dangling-else>)
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()

# The Python that has pytest: Debian's /usr/bin/python3 with python3-pytest,
# which may differ from the python3 first on PATH.
set(SMTPKIT_PYTHON "" CACHE FILEPATH "Python interpreter with pytest")
if(NOT SMTPKIT_PYTHON)
  foreach(candidate /usr/bin/python3 python3)
    execute_process(COMMAND ${candidate} -c "import pytest" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(SMTPKIT_PYTHON ${candidate} CACHE FILEPATH "Python interpreter with pytest" FORCE)
      break()
    endif()
  endforeach()
endif()

# A pytest folder as one ctest test; SMTPKIT_BIN points at the built binary.
function(smtpkit_pytest name dir)
  if(NOT SMTPKIT_PYTHON)
    message(WARNING "no python3 with pytest found; ${name} is not run (install python3-pytest)")
    return()
  endif()
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env SMTPKIT_BIN=$<TARGET_FILE:smtpkit> PYTHONDONTWRITEBYTECODE=1
            ${SMTPKIT_PYTHON} -m pytest -q -p no:cacheprovider ${ARGN} ${dir}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
