# test_docs.py — every ```python block of docs/python.md and README.md runs: a block whose
# first line is `# test_NAME.py` is written to that file and run by a
# separate pytest with the plugin (every test in it must pass; a skip
# fails it); any other block is executed as it stands, in a fresh
# namespace, in a temp folder.
#
# Limits: blocks are independent (nothing is shared between them).
import contextlib
import io
import os
import re
import subprocess
import sys
from xml.etree import ElementTree

import pytest

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # scripts/python
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))

DOC = os.path.join(REPO, "docs", "python.md")
README = os.path.join(REPO, "README.md")


def python_blocks(path):
    """[(line number, code)] of the ```python fences in a Markdown file."""
    blocks, current, start = [], None, 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if current is None and line.strip() == "```python":
                current, start = [], n + 1
            elif current is not None and line.strip() == "```":
                blocks.append((start, "".join(current)))
                current = None
            elif current is not None:
                current.append(line)
    assert current is None, "%s: unclosed ```python fence from line %d" % (path, start)
    return blocks


BLOCKS = python_blocks(DOC)
README_BLOCKS = python_blocks(README)


def test_the_doc_has_examples_of_both_kinds():
    kinds = {bool(re.match(r"# (test_\w+\.py)\n", code)) for _, code in BLOCKS}
    assert kinds == {True, False} and len(BLOCKS) >= 6


@pytest.mark.parametrize("line,code", BLOCKS, ids=["python.md:%d" % n for n, _ in BLOCKS])
def test_example(line, code, tmp_path, monkeypatch):
    m = re.match(r"# (test_\w+\.py)\n", code)
    if m:
        run_as_pytest_file(m.group(1), code, tmp_path)
        return
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # Padded so that tracebacks give the line number in the doc.
        exec(compile("\n" * (line - 1) + code, DOC, "exec"), {"__name__": "docs_example"})  # noqa: S102


@pytest.mark.parametrize("line,code", README_BLOCKS, ids=["README.md:%d" % n for n, _ in README_BLOCKS])
def test_readme_example(line, code, tmp_path):
    m = re.match(r"# (test_\w+\.py)\n", code)
    assert m, "README.md:%d: a Python example there is a test file (first line `# test_NAME.py`)" % line
    run_as_pytest_file(m.group(1), code, tmp_path)


def run_as_pytest_file(name, code, tmp_path):
    (tmp_path / name).write_text(code)
    report = tmp_path / "report.xml"
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "smtpkit.pytest_plugin", "-p", "no:cacheprovider",
                        "--smtpkit-fail-on", "must", "--junitxml", str(report), name], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    cases = list(ElementTree.parse(report).getroot().iter("testcase"))
    skipped = [c.find("skipped") for c in cases if c.find("skipped") is not None]
    assert p.returncode == 0 and cases, p.stdout + p.stderr
    assert not skipped, "%s: %s" % (name, skipped[0].get("message"))
