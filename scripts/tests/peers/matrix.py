"""The tables of a published matrix page (docs/client-matrix.md,
docs/relay-matrix.md): `smtpkit report matrix --title TITLE` over probe
runs, each written to a file as {"version", "report"}, in the order given.
The page generators add their own header above the tables."""
import json
import os
import subprocess
import tempfile


def tables(smtpkit_bin, title, runs):
    """The Markdown after the "# TITLE" line, for runs = [(name, version,
    report dict)]; raises RuntimeError when the command fails."""
    with tempfile.TemporaryDirectory(prefix="smtpkit-matrix-") as d:
        args = []
        for name, version, report in runs:
            path = os.path.join(d, name + ".json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"version": version, "report": report}, f)
            args.append("%s=%s" % (name, path))
        p = subprocess.run([smtpkit_bin, "report", "matrix", "--title", title, *args], capture_output=True,
                           timeout=60)
    if p.returncode != 0:
        raise RuntimeError("smtpkit report matrix exited %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace")))
    first, _, rest = p.stdout.decode("utf-8").partition("\n")
    assert first == "# " + title, first
    return rest
