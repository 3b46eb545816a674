# test_package_deb.py — `cpack -G DEB` makes a Debian package of smtpkit,
# and what it holds works from a fresh folder: the binary serves a message,
# and a program built with find_package(smtpkit) against the packaged
# parser library parses a command.
#
# Limits: the package is unpacked with dpkg-deb -x (no root, no dpkg
# database), so its declared dependencies are read, not installed; skips
# without cpack, dpkg-deb or the build folder's CPack config.
import glob
import os
import shutil
import smtplib
import subprocess

import pytest

from smtpkit import binary
from smtpkit.server import MockServer

CONSUMER_CMAKE = """cmake_minimum_required(VERSION 3.20)
project(consumer LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(smtpkit REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE smtpkit::parser)
"""

CONSUMER_MAIN = """#include <iostream>
#include "smtpkit/command.hpp"
int main() {
  auto r = smtpkit::parse_command("MAIL FROM:<alice@example.test> SIZE=100");
  if (!r.ok()) return 1;
  std::cout << r.cmd.address.text << "\\n";
  return 0;
}
"""


def test_deb_package_installs_and_works(tmp_path):
    for tool in ("cpack", "dpkg-deb", "cmake", "c++"):
        if shutil.which(tool) is None:
            pytest.skip("%s is not installed" % tool)
    build = os.path.dirname(os.path.dirname(os.path.realpath(binary.find_binary())))
    if not os.path.exists(os.path.join(build, "CPackConfig.cmake")):
        pytest.skip("no CPackConfig.cmake in %s" % build)
    out = tmp_path / "pkg"
    p = subprocess.run(["cpack", "-G", "DEB", "-B", str(out)], cwd=build, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    deb, = glob.glob(str(out / "smtpkit_*.deb"))
    info = subprocess.run(["dpkg-deb", "-I", deb], capture_output=True, text=True, check=True).stdout
    assert "Package: smtpkit" in info
    assert "libgmime-3.0" in info  # Depends: from the binary's shared libraries
    files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    for f in ("./usr/bin/smtpkit", "./usr/include/smtpkit/command.hpp", "/cmake/smtpkit/smtpkitConfig.cmake"):
        assert f in files, files

    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True, timeout=60)
    smtpkit = str(root / "usr" / "bin" / "smtpkit")
    srv = MockServer(binary=smtpkit, http=True)
    srv.start()
    try:
        assert srv.binary == smtpkit
        with smtplib.SMTP(*srv.address, local_hostname="client.example.test", timeout=10) as c:
            c.sendmail("a@example.test", ["b@example.test"], b"Subject: from the package\r\n\r\nx\r\n")
        assert srv.wait_for_messages(1)[0].email["Subject"] == "from the package"
        assert srv.http_url
    finally:
        srv.close()

    src = tmp_path / "consumer"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(CONSUMER_CMAKE)
    (src / "main.cpp").write_text(CONSUMER_MAIN)
    cfg = subprocess.run(["cmake", "-S", str(src), "-B", str(src / "build"), "-DCMAKE_PREFIX_PATH=" + str(root / "usr")],
                         capture_output=True, text=True, timeout=120)
    assert cfg.returncode == 0, cfg.stdout + cfg.stderr
    b = subprocess.run(["cmake", "--build", str(src / "build")], capture_output=True, text=True, timeout=300)
    assert b.returncode == 0, b.stdout + b.stderr
    run = subprocess.run([str(src / "build" / "consumer")], capture_output=True, text=True, timeout=10)
    assert run.returncode == 0 and run.stdout == "<alice@example.test>\n"
