# test_dockerfile.py — the Dockerfile, checked without Docker (this machine
# has no Docker daemon): two Debian 12 stages; the build stage installs the
# build packages scripts/setup.sh installs (and GMime), and its CMake
# command configures this tree; the runtime stage installs the Debian
# package (test_package_deb.py builds and uses the same package) and serves
# SMTP on 1025 and the web view on 8025, as a Mailpit container does. With
# hadolint installed, it lints too.
import os
import re
import shlex
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def dockerfile():
    with open(os.path.join(REPO, "Dockerfile"), encoding="utf-8") as f:
        text = f.read()
    return re.sub(r"\\\n", " ", text)  # join continued lines


def stages():
    out = []
    for line in dockerfile().splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            out.append({"from": line.split()[1:], "lines": []})
        elif out and line and not line.startswith("#"):
            out[-1]["lines"].append(line)
    return out


def setup_build_packages():
    with open(os.path.join(REPO, "scripts", "setup.sh"), encoding="utf-8") as f:
        text = f.read()
    block = text.split("PACKAGES=(", 1)[1].split("# tests", 1)[0]
    names = set()
    for line in block.splitlines():
        line = line.split("#", 1)[0]
        names.update(line.split())
    return names - {"clang-14", "libclang-rt-14-dev", "llvm-14", "libgtest-dev", "libgmock-dev", "googletest",
                    "libbenchmark-dev"}  # tests, fuzzing and benchmarks only


def test_two_debian_12_stages():
    s = stages()
    assert [x["from"] for x in s] == [["debian:12", "AS", "build"], ["debian:12-slim"]]
    runtime = " ".join(s[1]["lines"])
    assert "COPY --from=build /pkg/*.deb" in runtime
    assert "apt-get install -y --no-install-recommends /tmp/smtpkit_*.deb" in runtime


def test_build_stage_installs_what_setup_installs():
    build = " ".join(stages()[0]["lines"])
    installed = set(build.split("apt-get install -y --no-install-recommends", 1)[1].split("&&", 1)[0].split())
    missing = setup_build_packages() - installed
    assert not missing, missing


def test_default_command_is_mailpit_ports():
    lines = stages()[1]["lines"]
    cmd = [l for l in lines if l.startswith("CMD ")][-1]
    assert '"--listen", "0.0.0.0:1025"' in cmd and '"--http", "0.0.0.0:8025"' in cmd
    assert "EXPOSE 1025 8025" in lines
    assert 'ENTRYPOINT ["smtpkit"]' in lines


def test_build_stage_cmake_configures(tmp_path):
    if shutil.which("cmake") is None or shutil.which("ninja") is None:
        pytest.skip("cmake or ninja is not installed")
    run = [l for l in stages()[0]["lines"] if l.startswith("RUN cmake -S")][0]
    configure = shlex.split(run[len("RUN "):].split("&&", 1)[0])
    configure[configure.index("-S") + 1] = REPO
    configure[configure.index("-B") + 1] = str(tmp_path / "build")
    p = subprocess.run(configure, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "build" / "CPackConfig.cmake").exists()


def test_hadolint():
    if shutil.which("hadolint") is None:
        pytest.skip("hadolint is not installed")
    p = subprocess.run(["hadolint", os.path.join(REPO, "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
