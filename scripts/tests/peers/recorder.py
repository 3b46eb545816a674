# peers/recorder.py — a small TCP recording proxy: listens on 127.0.0.1
# (port 0 by default), forwards octets both ways unchanged to an upstream,
# and writes one dialogue-format transcript per session (peers/dialogue.py,
# the mirror of smtpkit::transcript_writer).
#
# A stopgap until `smtpkit record` exists. Limits:
# - one thread per session, records in the order the proxy read the octets
#   (which is the order each side sent them, as far as one proxy can see);
# - STARTTLS is end to end: once the client has sent STARTTLS and the next
#   final reply line from the server is a 220, "@tls" is written and no
#   further octets are recorded (they are still forwarded); closes still are;
# - a session idle for `idle_timeout` seconds is cut, so nothing waits forever.
import os
import selectors
import socket
import threading
import time

from .dialogue import CLIENT, SERVER, TranscriptWriter

TLS_COMMENT = "TLS: content not visible to the recorder"


class _Session:
    """One proxied connection: the octets seen and the STARTTLS watch."""

    def __init__(self, number, comments):
        self.number = number
        self.writer = TranscriptWriter()
        for c in comments:
            self.writer.comment(c)
        self.tls = False
        self.starttls_sent = False
        self.client_line = b""
        self.server_line = b""

    def client_bytes(self, data):
        if self.tls:
            return
        self.writer.sent(CLIENT, data)
        buf = self.client_line + data
        *lines, self.client_line = buf.split(b"\n")
        for line in lines:
            if line.rstrip(b"\r").strip().upper() == b"STARTTLS":
                self.starttls_sent = True
        self.client_line = self.client_line[-512:]

    def server_bytes(self, data):
        if self.tls:
            return
        end = self._tls_starts_after(data)
        if end is None:
            self.writer.sent(SERVER, data)
            return
        self.writer.sent(SERVER, data[:end])
        self.writer.tls()
        self.writer.comment(TLS_COMMENT)
        self.tls = True

    def _tls_starts_after(self, data):
        """Offset just past a 220 final reply to STARTTLS within data, or None."""
        pos = 0
        while True:
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            line, self.server_line, pos = self.server_line + data[pos:nl + 1], b"", nl + 1
            if self.starttls_sent and len(line) >= 4 and line[3:4] != b"-":
                self.starttls_sent = False
                if line.startswith(b"220"):
                    return pos
        self.server_line = (self.server_line + data[pos:])[-512:]
        return None


class Recorder:
    """Start with start() (or `with Recorder(...) as rec:`); rec.port is the
    listening port. Finished sessions are in rec.transcripts (text, in the
    order sessions ended) and, when out_dir is given, in
    out_dir/session-NNNN.smtp."""

    def __init__(self, upstream_host, upstream_port, out_dir=None, comments=(), idle_timeout=20.0):
        self.upstream = (upstream_host, upstream_port)
        self.out_dir = out_dir
        self.comments = list(comments)
        self.idle_timeout = idle_timeout
        self.transcripts = []
        self.files = []
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._threads = []
        self._count = 0
        self._stopping = threading.Event()
        self._listener = None
        self.port = None

    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name="recorder-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._count += 1
                number = self._count
            t = threading.Thread(target=self._serve, args=(conn, number), name="recorder-%d" % number, daemon=True)
            t.start()
            with self._lock:
                self._threads.append(t)

    def _serve(self, client, number):
        session = _Session(number, self.comments)
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError as e:
            session.writer.comment("upstream %s:%d refused: %s" % (self.upstream + (e.strerror or e,)))
            client.close()
            self._finish(session)
            return
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, CLIENT)
        sel.register(upstream, selectors.EVENT_READ, SERVER)
        peer = {CLIENT: upstream, SERVER: client}
        sock = {CLIENT: client, SERVER: upstream}
        open_sides = {CLIENT, SERVER}
        last = time.monotonic()
        try:
            while open_sides and not self._stopping.is_set():
                events = sel.select(timeout=0.2)
                if not events:
                    if time.monotonic() - last > self.idle_timeout:
                        session.writer.comment("recorder: idle for %gs, session cut" % self.idle_timeout)
                        break
                    continue
                last = time.monotonic()
                for key, _ in events:
                    who = key.data
                    try:
                        data = sock[who].recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        (session.client_bytes if who == CLIENT else session.server_bytes)(data)
                        try:
                            peer[who].sendall(data)
                        except OSError:
                            pass
                        continue
                    session.writer.close(who)
                    open_sides.discard(who)
                    sel.unregister(sock[who])
                    try:
                        peer[who].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
        finally:
            sel.close()
            client.close()
            upstream.close()
            self._finish(session)

    def _finish(self, session):
        text = session.writer.take()
        path = None
        if self.out_dir:
            os.makedirs(self.out_dir, exist_ok=True)
            path = os.path.join(self.out_dir, "session-%04d.smtp" % session.number)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        with self._done:
            self.transcripts.append(text)
            if path:
                self.files.append(path)
            self._done.notify_all()

    def wait_sessions(self, n, timeout=10.0):
        """Wait (bounded) until n sessions have ended; returns their transcripts."""
        deadline = time.monotonic() + timeout
        with self._done:
            while len(self.transcripts) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("recorder: %d of %d sessions ended" % (len(self.transcripts), n))
                self._done.wait(left)
            return list(self.transcripts[:n])

    def stop(self, timeout=5.0):
        self._stopping.set()
        if self._listener:
            self._listener.close()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
