# browser.py — headless Chromium (Debian's `chromium`) with one page, driven
# over its DevTools protocol through peers/websocket.py: navigate, evaluate,
# wait for a condition (bounded), screenshot. Used by test_serve_web.py and
# bench/web_bench.py --browser. dump_dom() loads one file and returns its
# DOM after its scripts ran (the HTML report tests).
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

from peers.websocket import WebSocket


def dump_dom(page):
    """The DOM of the file `page` (a pathlib.Path) after its scripts ran, as
    headless Chromium serialises it (--dump-dom)."""
    exe = shutil.which("chromium")
    assert exe, "chromium is needed (scripts/setup.sh installs Debian's chromium)"
    profile = tempfile.mkdtemp(prefix="smtpkit-chromium-")
    try:
        p = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync", "--no-first-run",
                            "--user-data-dir=" + profile, "--dump-dom", page.as_uri()],
                           capture_output=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    return p.stdout.decode("utf-8", "replace")


class Browser:
    """Headless Chromium, one page, driven over the DevTools protocol."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="smtpkit-chromium-")
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "--user-data-dir=" + self.profile,
             "--window-size=1200,900", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = self.proc.stderr.readline().decode(errors="replace")
            if not line and self.proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
        if port is None:
            self.close()
            raise RuntimeError("chromium did not start")
        targets = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10).read())
        page, = [t for t in targets if t["type"] == "page"][:1]
        self.ws = WebSocket(page["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = json.loads(self.ws.recv(timeout=deadline - time.monotonic()))
            if r.get("id") == self.next_id:
                if "error" in r:
                    raise RuntimeError("%s: %s" % (method, r["error"]))
                return r["result"]
        raise TimeoutError(method)

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expression, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expression, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError("the page did not show %s within %.0f s; screenshot: %s" % (what, timeout, self.screenshot(what)))

    def screenshot(self, name):
        folder = os.environ.get("SMTPKIT_TEST_ARTIFACTS") or tempfile.gettempdir()
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "web-%s.png" % re.sub(r"[^a-z0-9]+", "-", name.lower())[:60])
        try:
            data = self.call("Page.captureScreenshot", format="png")["data"]
            with open(path, "wb") as f:
                f.write(base64.b64decode(data))
        except Exception as e:  # the page or browser is gone: say so
            return "(none: %s)" % e
        return path

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)
