# test_serve_mailpit_client.py — a Mailpit client written by others, the npm
# package mailpit-api (unchanged, installed by scripts/setup.sh into
# .deps/npm), against `smtpkit serve --http`: info, list, summary, headers,
# source, attachment, rendered text and HTML, search, waitForMessage, read
# status, chaos triggers, delete by search and by IDs (peers/mailpit_client.mjs).
#
# Skips when node or the package is not there.
import email.message
import os
import shutil
import smtplib
import subprocess

import pytest

from smtpkit.server import MockServer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PACKAGE = os.path.join(REPO, ".deps", "npm", "node_modules", "mailpit-api")


def message(subject, sender, attachment=None):
    m = email.message.EmailMessage()
    m["From"] = sender
    m["To"] = "bob@example.test"
    m["Subject"] = subject
    m.set_content("plain words here\n")
    m.add_alternative("<p>html <b>words</b></p>\n", subtype="html")
    if attachment:
        m.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="data.bin")
    return m


def test_mailpit_api_npm_client_unchanged():
    if shutil.which("node") is None or not os.path.isdir(PACKAGE):
        pytest.skip("node or the mailpit-api package (scripts/setup.sh) is not installed")
    srv = MockServer(args=["--http", "127.0.0.1:0"])
    srv.start()
    try:
        url, = [e["url"] for e in srv.events if e.get("event") == "service" and e.get("service") == "http"]
        with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
            c.send_message(message("First one", "Alice <alice@example.test>", b"binary attachment"))
            c.send_message(message("Second one", "Zed <zed@example.test>"))
        srv.wait_for_messages(2)
        p = subprocess.run(["node", os.path.join(HERE, "peers", "mailpit_client.mjs"), PACKAGE, url],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "mailpit-api: ok" in p.stdout
    finally:
        srv.close()
