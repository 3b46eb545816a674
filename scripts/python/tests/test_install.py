# test_install.py — the package installs offline with Debian's Python and
# its setuptools (`pip install --no-build-isolation --no-index`), into a
# virtual environment that sees the system packages (Debian refuses pip
# installs into the system Python, PEP 668), and its pytest11 entry point
# loads the plugin with no -p and no PYTHONPATH.
#
# Limits: skips without python3-venv or pip. The package is copied out of
# the source tree first, so the build leaves nothing behind in it.
import os
import shutil
import subprocess
import sys

import pytest

import smtpkit

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # scripts/python

TEST_FILE = '''
import smtplib

import smtpkit


def test_entry_point_plugin(smtp_server):
    assert "site-packages" in smtpkit.__file__
    with smtplib.SMTP(smtp_server.host, smtp_server.port, local_hostname="client.example.test") as c:
        c.sendmail("a@example.test", ["b@example.test"], b"Subject: installed\\r\\n\\r\\nok\\r\\n")
    assert smtp_server.wait_for_messages(1)[0].email["Subject"] == "installed"
'''


def test_pip_install_offline_and_entry_point(tmp_path):
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    for module in ("venv", "pip", "setuptools"):
        if subprocess.run([python, "-c", "import %s" % module], capture_output=True).returncode != 0:
            pytest.skip("%s has no %s (python3-venv, python3-pip, python3-setuptools)" % (python, module))
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True,
                   timeout=120)
    vpython = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env.update(SMTPKIT_BIN=smtpkit.find_binary(), PYTHONDONTWRITEBYTECODE="1", PIP_NO_INPUT="1")
    p = subprocess.run([python, "-m", "pip", "--python", vpython, "install", "-q", "--no-build-isolation",
                        "--no-index", "--disable-pip-version-check", str(src)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr

    (tmp_path / "test_installed.py").write_text(TEST_FILE)
    p = subprocess.run([vpython, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_installed.py"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "1 passed" in p.stdout, p.stdout + p.stderr
    # Named like the module: `-p smtpkit.pytest_plugin` finds it already loaded.
    p = subprocess.run([vpython, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "smtpkit.pytest_plugin",
                        "test_installed.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
