# test_docs_install.py — the install paths of README.md and docs/python.md,
# run as a new user would: each fenced block is taken from the document as
# written, only its install prefix and build folder pointed into a fresh
# temporary folder, and run there.
#
#   README "Install just the library"   configure (SMTPKIT_PARSER_ONLY), build,
#                                       install into a prefix
#   README "Using the grammar library"  the CMake and both C++ snippets, built
#                                       against that prefix and run
#   README "A fake server in a Python test" + docs/python.md "Installing"
#                                       the venv block, then the README's test
#                                       file run with the venv's pytest
#
# A block that no longer reads as the test expects fails by name, so the
# documents and this test change together.
#
# Limits: Linux; the parser-only build takes a minute or two on two cores;
# the venv block needs python3-venv (skipped without it).
import os
import re
import shutil
import subprocess
import sys

import pytest

from smtpkit import binary

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def blocks(doc):
    """(info, text, line) of every fenced block of a Markdown file."""
    out, info, buf, start = [], None, [], 0
    with open(os.path.join(REPO, doc), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("```"):
                if info is None:
                    info, buf, start = line[3:].strip(), [], n
                else:
                    out.append((info, "".join(buf), start))
                    info = None
            elif info is not None:
                buf.append(line)
    return out


def block(doc, lang, must_hold):
    found = [b for b in blocks(doc) if b[0] == lang and must_hold in b[1]]
    assert len(found) == 1, "%s: expected one ```%s block holding %r, found %d" % (doc, lang, must_hold, len(found))
    return found[0]


def run(cmd, cwd, env=None, timeout=900):
    p = subprocess.run(cmd, cwd=cwd, shell=isinstance(cmd, str), env=env, capture_output=True, text=True,
                       timeout=timeout, executable="/bin/bash" if isinstance(cmd, str) else None)
    assert p.returncode == 0, "%s\nexit %d\n%s\n%s" % (cmd, p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    return p


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The README's library install, into a prefix of our own."""
    if not shutil.which("cmake"):
        pytest.skip("cmake is not installed")
    tmp = tmp_path_factory.mktemp("lib")
    _, text, line = block("README.md", "sh", "-DSMTPKIT_PARSER_ONLY=ON")
    assert "build/lib" in text and "--prefix /usr/local" in text, "README.md:%d: the install block changed" % line
    prefix, build = tmp / "prefix", tmp / "build"
    cmd = text.replace("build/lib", str(build)).replace("--prefix /usr/local", "--prefix %s" % prefix)
    # The user's environment, without a launcher or cache of ours.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMAKE_")}
    run(cmd, cwd=REPO, env=env)
    return prefix


def test_the_library_installs_with_its_headers_and_package(installed):
    assert (installed / "include" / "smtpkit" / "command.hpp").is_file()
    assert (installed / "include" / "smtpkit" / "line.hpp").is_file()
    assert list(installed.glob("lib*/cmake/smtpkit/*onfig.cmake")), sorted(str(p) for p in installed.rglob("*"))
    # Internals stay out of the installed headers.
    assert not (installed / "include" / "smtpkit" / "detail" / "scan.hpp").exists()
    assert not (installed / "include" / "smtpkit" / "test_support.hpp").exists()


def test_the_readme_snippets_build_against_the_installed_library(installed, tmp_path):
    _, cmake_text, _ = block("README.md", "cmake", "find_package(smtpkit REQUIRED)")
    _, first, _ = block("README.md", "cpp", "parse_command(\"MAIL FROM:")
    _, framing, _ = block("README.md", "cpp", "each_line(buf")
    includes, body = [], []
    for snippet in (first, framing):
        for ln in snippet.splitlines():
            (includes if ln.startswith("#include") else body).append(ln)
    source = "\n".join(["#include <iostream>", "#include <string>"] + sorted(set(includes)) + [
        "int main() {",
        "  std::string buf = \"MAIL FROM:<a@example.test>\\r\\nRCPT TO:<b@example.test>\\r\\nRCPT TO:<c\";",
        "  {"] + ["    " + ln for ln in first.splitlines() if not ln.startswith("#include")] + [
        "  }"] + ["  " + ln for ln in framing.splitlines() if not ln.startswith("#include")] + [
        "  std::cout << \"left \" << buf.size() << \"\\n\";",
        "  return 0;",
        "}"]) + "\n"
    (tmp_path / "main.cpp").write_text(source)
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20)\nproject(my_app CXX)\nset(CMAKE_CXX_STANDARD 20)\n"
        "add_executable(my_app main.cpp)\n" + cmake_text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMAKE_")}
    env["CMAKE_PREFIX_PATH"] = str(installed)
    run(["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "build")], cwd=tmp_path, env=env)
    run(["cmake", "--build", str(tmp_path / "build")], cwd=tmp_path, env=env)
    out = run([str(tmp_path / "build" / "my_app")], cwd=tmp_path).stdout
    # Two whole lines framed and parsed; the unfinished third stays in buf.
    assert out.strip() == "left %d" % len("RCPT TO:<c"), out


def test_the_python_install_block_runs_the_readme_test(tmp_path):
    if subprocess.run(["/usr/bin/python3", "-c", "import venv, ensurepip"], capture_output=True).returncode != 0:
        pytest.skip("python3-venv is not installed")
    _, install, line = block("docs/python.md", "sh", "python3 -m venv --system-site-packages .venv")
    assert "scripts/python" in install, "docs/python.md:%d: the install block changed" % line
    _, test_text, _ = block("README.md", "python", "def test_mail_arrives(smtp_server)")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mail.py").write_text(test_text)
    # The block as written, from a copy of the tree's Python package; python3
    # is the interpreter that has pytest (Debian's).
    shutil.copytree(os.path.join(REPO, "scripts", "python"), tmp_path / "scripts" / "python",
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    env = dict(os.environ, SMTPKIT_BIN=binary.find_binary(), PATH="/usr/bin:" + os.environ.get("PATH", ""))
    env.pop("PYTHONPATH", None)
    p = run(install, cwd=tmp_path, env=env, timeout=300)
    assert re.search(r"\b1 passed\b", p.stdout), p.stdout
    # Nothing written beside the sources it was installed from.
    left = sorted(os.listdir(tmp_path / "scripts" / "python"))
    assert "build" not in left and not [n for n in left if n.endswith(".egg-info")], left
