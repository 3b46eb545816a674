"""The real SMTP clients `smtpkit probe client` is run against.

In tests (scripts/tests/test_probe_client_matrix.py) and for
docs/client-matrix.md (scripts/gen_client_matrix.py): each client's
command line (with the probe's placeholders), the probe flags that say how
it is set up, whether it reads the message on stdin, a one-line "how" for
the page, its version and whether it is here. One place, so the pinned
verdicts and the published matrix come from the same runs.

Every client is configured as a careful user would: its own EHLO name
(client.smtpkit.test) where it has one, two recipients ({rcpt} {rcpt2}),
STARTTLS with only the probe's CA ({ca}) trusted and the certificate
checked (so every run has --client-verifies-cert), and no AUTH (the AUTH
scenarios are "n/a"):

  curl        STARTTLS required (--ssl-reqd), --cacert; --crlf tells curl the
              file has LF line ends (it sends the file as is otherwise)
  swaks       STARTTLS required (--tls), --tls-verify --tls-ca-path; swaks
              20201014 checks the chain only, not the host name
  msmtp       STARTTLS required (--tls=on --tls-starttls=on), --tls-trust-file;
              message on stdin (sendmail-like)
  s-nail      STARTTLS required (smtp-use-starttls), tls-ca-file; message on
              stdin with -t; connects to "localhost", not {host}: s-nail
              14.9 matches DNS names only, and refuses the certificate's
              IP address 127.0.0.1 ("TLS certificate does not match")
  smtplib     Python's smtplib used with care (peers/smtplib_client.py),
              STARTTLS required
  exim        exim4 as a client (peers/exim_client.py): its smtp transport,
              STARTTLS whenever offered (opportunistic, exim's default), the
              certificate verified when TLS is used
  nodemailer  the npm package (peers/nodemailer_client.mjs, .deps/npm from
              scripts/setup.sh): opportunistic STARTTLS (its default), tls.ca

The probe runs with the repository root as its working folder, and the
command lines name the repository's files relatively, so that the report's
"target" (shown on the page) does not depend on where the tree is.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PYTHON = "/usr/bin/python3"
EXIM = "/usr/sbin/exim4"
NODEMAILER = os.path.join(".deps", "npm", "node_modules", "nodemailer")  # relative to REPO
EHLO = "client.smtpkit.test"

CLIENTS = ["curl", "swaks", "msmtp", "s-nail", "smtplib", "exim", "nodemailer"]

REQUIRED = ["--client-requires-tls", "--client-verifies-cert"]
OPPORTUNISTIC = ["--client-verifies-cert"]

# name: argv (placeholders), flags, stdin, how (one line, Markdown)
SPEC = {
    "curl": dict(
        argv=["curl", "-sS", "smtp://{host}:{port}/" + EHLO, "--ssl-reqd", "--cacert", "{ca}", "--crlf",
              "--mail-from", "{from}", "--mail-rcpt", "{rcpt}", "--mail-rcpt", "{rcpt2}", "--upload-file",
              "{message}"],
        flags=REQUIRED, stdin=False,
        how="STARTTLS required (`--ssl-reqd`), `--cacert {ca}` (chain and host name); EHLO name in the URL; "
            "`--crlf`: the way to tell curl the file has LF line ends (it turns every LF into CRLF)"),
    "swaks": dict(
        argv=["swaks", "--server", "{host}:{port}", "--helo", EHLO, "--from", "{from}", "--to", "{rcpt},{rcpt2}",
              "--data", "@{message}", "--tls", "--tls-verify", "--tls-ca-path", "{ca}"],
        flags=REQUIRED, stdin=False,
        how="STARTTLS required (`--tls`), `--tls-verify --tls-ca-path {ca}`: swaks 20201014 checks the chain, "
            "not the host name; `--data @{message}`"),
    "msmtp": dict(
        argv=["msmtp", "--host={host}", "--port={port}", "--domain=" + EHLO, "--tls=on", "--tls-starttls=on",
              "--tls-trust-file={ca}", "--from={from}", "--", "{rcpt}", "{rcpt2}"],
        flags=REQUIRED, stdin=True,
        how="STARTTLS required (`--tls=on --tls-starttls=on`), `--tls-trust-file={ca}` (chain and host name), "
            "`--domain` for EHLO; the message on stdin"),
    "s-nail": dict(
        argv=["s-nail", "-:/", "-S", "v15-compat", "-S", "nosave", "-S", "ttycharset=utf-8", "-S", "sendcharsets=utf-8",
              "-S", "from={from}",
              "-S", "hostname=" + EHLO, "-S", "mta=smtp://localhost:{port}", "-S", "smtp-use-starttls",
              "-S", "tls-ca-file={ca}", "-S", "tls-ca-no-defaults", "-S", "smtp-auth=none", "-t", "{rcpt}", "{rcpt2}"],
        flags=REQUIRED, stdin=True,
        how="STARTTLS required (`smtp-use-starttls`), `tls-ca-file={ca}` (chain and host name); the message on "
            "stdin with `-t`; `mta=smtp://localhost:{port}`, since s-nail 14.9 matches DNS names only "
            "(with 127.0.0.1 every certificate is refused)"),
    "smtplib": dict(
        argv=[PYTHON, "scripts/tests/peers/smtplib_client.py", "--host", "{host}", "--port", "{port}", "--message",
              "{message}", "--cafile", "{ca}", "--from", "{from}", "--to", "{rcpt}", "--to", "{rcpt2}"],
        flags=REQUIRED, stdin=False,
        how="`scripts/tests/peers/smtplib_client.py`: smtplib with care (replies by their first digit, "
            "BODY=8BITMIME, QUIT after failures); STARTTLS required, an SSL context trusting {ca}"),
    "exim": dict(
        argv=[PYTHON, "scripts/tests/peers/exim_client.py", "--port", "{port}", "--message", "{message}", "--ca",
              "{ca}", "--from", "{from}", "--", "{rcpt}", "{rcpt2}"],
        flags=OPPORTUNISTIC, stdin=False,
        how="`scripts/tests/peers/exim_client.py`: `exim -odi` with a private configuration routing example.test "
            "to 127.0.0.1:{port}; STARTTLS when offered (opportunistic), then `tls_verify_certificates` {ca} "
            "enforced, never retried in clear; exit status from exim's log"),
    "nodemailer": dict(
        argv=["node", "scripts/tests/peers/nodemailer_client.mjs", "--package", NODEMAILER, "--host", "{host}",
              "--port", "{port}", "--message", "{message}", "--ca", "{ca}", "--from", "{from}", "--to", "{rcpt}",
              "--to", "{rcpt2}"],
        flags=OPPORTUNISTIC, stdin=False,
        how="`scripts/tests/peers/nodemailer_client.mjs`: `sendMail({envelope, raw})` with `use8BitMime`, "
            "`name` for EHLO; STARTTLS when offered (opportunistic, its default), `tls: {ca}`; exit 1 on an error "
            "or a rejected recipient"),
}


def smtpkit_bin():
    return os.environ.get("SMTPKIT_BIN", os.path.join(REPO, "build", "default", "cli", "smtpkit"))


def available(name):
    """None when the client can run here, else why not."""
    if name in ("curl", "swaks", "msmtp", "s-nail"):
        return None if shutil.which(name) else "%s is not installed" % name
    if name == "smtplib":
        return None if os.access(PYTHON, os.X_OK) else "no %s" % PYTHON
    if name == "exim":
        if not os.access(EXIM, os.X_OK):
            return "exim4 is not installed"
        return None if os.getuid() == 0 else "exim as a client needs root (-C with a private configuration)"
    if name == "nodemailer":
        if not shutil.which("node"):
            return "node is not installed"
        if not os.path.isdir(os.path.join(REPO, NODEMAILER)):
            return "the nodemailer npm package is not in .deps/npm (scripts/setup.sh)"
        return None
    return "unknown client %s" % name


def _output(argv):
    try:
        p = subprocess.run(argv, capture_output=True, timeout=20, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (p.stdout or p.stderr).decode("utf-8", "replace")


def version(name):
    """The client's version, short ("7.88.1"; smtplib: the Python's)."""
    patterns = {
        "curl": (["curl", "--version"], r"^curl (\S+)"),
        "swaks": (["swaks", "--version"], r"swaks version (\S+)"),
        "msmtp": (["msmtp", "--version"], r"msmtp version (\S+)"),
        "s-nail": (["s-nail", "-V"], r"s-nail v(\S+?),"),
        "smtplib": ([PYTHON, "--version"], r"(Python \S+)"),
        "exim": ([EXIM, "-bV"], r"Exim version (\S+)"),
    }
    if name == "nodemailer":
        try:
            with open(os.path.join(REPO, NODEMAILER, "package.json"), encoding="utf-8") as f:
                return json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            return "?"
    argv, pattern = patterns[name]
    m = re.search(pattern, _output(argv), re.M)
    return m.group(1) if m else "?"


def probe_args(name):
    """The arguments of `smtpkit probe client` for this client (flags, --, argv)."""
    s = SPEC[name]
    return (["--stdin"] if s["stdin"] else []) + s["flags"] + ["--"] + s["argv"]


def probe(name, *extra, jobs=4, timeout=150):
    """Runs `smtpkit probe client -jN --format json ARGS` from the repository
    root; (returncode, report dict or None, stderr, seconds)."""
    start = time.monotonic()
    p = subprocess.run([smtpkit_bin(), "probe", "client", "-j%d" % jobs, "--format", "json", *extra,
                        *probe_args(name)], capture_output=True, timeout=timeout, cwd=REPO, stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    report = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, report, p.stderr.decode("utf-8", "replace"), seconds


def verdicts(report):
    """{scenario id: "pass" | "fail/MUST" | "fail/SHOULD" | "not-done" | "not-applicable" | "error"}."""
    out = {}
    for s in report["scenarios"]:
        v = s["verdict"]
        if v == "fail":
            v += "/" + s["failed_level"]
        out[s["id"]] = v
    return out


def reasons(report):
    return {s["id"]: s.get("reason") or "" for s in report["scenarios"]}


if __name__ == "__main__":  # python3 -m peers.probe_clients NAME: print the verdicts that are not pass
    name = sys.argv[1]
    rc, rep, err, secs = probe(name)
    print("exit %d, %.1f s, %s" % (rc, secs, err.strip()))
    why = reasons(rep)
    for k, v in sorted(verdicts(rep).items()):
        if v != "pass":
            print("%-40s %-16s %s" % (k, v, why[k][:110]))
