# test_serve_http.py — `smtpkit serve --http`: Mailpit's REST API v1 (the
# part tests use, with Mailpit's field names from its swagger.json) and
# smtpkit's own /api/smtpkit/sessions, over real sockets with urllib.
#
# One multipart message (text, HTML, an attachment; a Bcc only in the
# envelope) from smtplib, then every endpoint is read and the message is
# marked, searched and deleted.
import email.message
import json
import re
import smtplib
import urllib.error
import urllib.request

import pytest

from smtpkit.server import MockServer

ATTACHMENT = b"\x00\x01binary attachment\xff"


def http_url(srv):
    svc = [e for e in srv.events if e.get("event") == "service" and e.get("service") == "http"]
    assert len(svc) == 1, srv.events
    return svc[0]["url"]


def call(url, method="GET", body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers, r.read()


def get_json(url):
    status, headers, body = call(url)
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    return json.loads(body)


def make_message(subject="Hello web", sender="Alice <alice@example.test>", to="Bob <bob@example.test>"):
    m = email.message.EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Cc"] = "carol@example.test"
    m["Subject"] = subject
    m["Message-ID"] = "<%s@example.test>" % subject.replace(" ", ".")
    m.set_content("plain words here\n")
    m.add_alternative("<p>html <b>words</b></p>\n", subtype="html")
    m.add_attachment(ATTACHMENT, maintype="application", subtype="octet-stream", filename="data.bin")
    return m


@pytest.fixture
def served():
    srv = MockServer(args=["--http", "127.0.0.1:0"])
    srv.start()
    try:
        yield srv, http_url(srv)
    finally:
        srv.close()


def send(srv, msg, rcpts, n):
    with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
        c.send_message(msg, to_addrs=rcpts)
    srv.wait_for_messages(n)


def test_the_http_url_is_announced(served):
    srv, url = served
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    assert url not in ("http://127.0.0.1:0",)
    assert ("web view and Mailpit API on %s/" % url) in srv.stderr_text()


def test_mailpit_api(served):
    srv, url = served
    api = url + "/api/v1"
    assert get_json(api + "/messages")["total"] == 0
    send(srv, make_message(), ["bob@example.test", "carol@example.test", "dave@example.test"], 1)

    info = get_json(api + "/info")
    assert info["Messages"] == 1 and info["Unread"] == 1
    assert info["Version"].startswith("smtpkit ")

    page = get_json(api + "/messages")
    assert (page["total"], page["unread"], page["count"], page["start"]) == (1, 1, 1, 0)
    item, = page["messages"]
    mid = item["ID"]
    assert item["Subject"] == "Hello web"
    assert item["From"] == {"Name": "Alice", "Address": "alice@example.test"}
    assert item["To"] == [{"Name": "Bob", "Address": "bob@example.test"}]
    assert item["Cc"] == [{"Name": "", "Address": "carol@example.test"}]
    assert item["Bcc"] == [{"Name": "", "Address": "dave@example.test"}]  # only in the envelope
    assert item["Read"] is False
    assert item["Attachments"] == 1
    assert item["MessageID"] == "Hello.web@example.test"
    assert "plain words here" in item["Snippet"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item["Created"])
    assert item["Size"] == len(srv.messages[0].raw)

    full = get_json(api + "/message/latest")
    assert full["ID"] == mid
    assert full["Text"] == "plain words here\n"
    assert full["HTML"] == "<p>html <b>words</b></p>\n"
    assert full["Subject"] == "Hello web"
    assert full["ReturnPath"] == srv.messages[0].mail_from
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", full["Date"])
    att, = full["Attachments"]
    assert att["FileName"] == "data.bin" and att["ContentType"] == "application/octet-stream"
    assert att["Size"] == len(ATTACHMENT)
    # Reading the summary marks the message read.
    assert get_json(api + "/messages")["messages"][0]["Read"] is True

    headers = get_json(api + "/message/%s/headers" % mid)
    assert headers["Subject"] == ["Hello web"]
    assert headers["Cc"] == ["carol@example.test"]
    assert list(headers) == sorted(headers)

    status, h, raw = call(api + "/message/%s/raw" % mid)
    assert status == 200 and h["Content-Type"].startswith("text/plain")
    assert raw == srv.messages[0].raw

    status, h, part = call(api + "/message/%s/part/%s" % (mid, att["PartID"]))
    assert part == ATTACHMENT
    assert h["Content-Type"].startswith("application/octet-stream")

    status, h, body = call(url + "/view/%s.txt" % mid)
    assert body == b"plain words here\n"
    status, h, body = call(url + "/view/%s.html" % mid)
    assert b"<b>words</b>" in body and "sandbox" in h["Content-Security-Policy"]

    with pytest.raises(urllib.error.HTTPError) as e:
        call(api + "/message/nosuchid")
    assert e.value.code == 404


def test_read_status_search_and_delete(served):
    srv, url = served
    api = url + "/api/v1"
    send(srv, make_message("First one", "Alice <alice@example.test>"), ["bob@example.test"], 1)
    send(srv, make_message("Second one", "Zed <zed@example.test>", "erin@example.test"), ["erin@example.test"], 2)
    ids = {m["Subject"]: m["ID"] for m in get_json(api + "/messages")["messages"]}
    assert [m["Subject"] for m in get_json(api + "/messages")["messages"]] == ["Second one", "First one"]
    assert [m["Subject"] for m in get_json(api + "/messages?start=1&limit=1")["messages"]] == ["First one"]

    def search(q):
        return [m["Subject"] for m in get_json(api + "/search?query=" + urllib.request.quote(q))["messages"]]

    assert search("from:alice@example.test") == ["First one"]
    assert search("from:zed") == ["Second one"]
    assert search("to:erin@example.test") == ["Second one"]
    assert search('subject:"Second one"') == ["Second one"]
    assert search("words") == ["Second one", "First one"]
    assert search("nowhere-to-be-found") == []
    assert search("is:unread") == ["Second one", "First one"]

    status, _, body = call(api + "/messages", "PUT", {"IDs": [ids["First one"]], "Read": True})
    assert status == 200
    assert search("is:unread") == ["Second one"]
    assert search("is:read") == ["First one"]
    assert get_json(api + "/info")["Unread"] == 1
    call(api + "/messages", "PUT", {"Read": True})  # no IDs: all
    assert search("is:unread") == []

    call(api + "/search?query=" + urllib.request.quote("from:zed"), "DELETE")
    assert [m["Subject"] for m in get_json(api + "/messages")["messages"]] == ["First one"]
    send(srv, make_message("Third one"), ["bob@example.test"], 3)
    call(api + "/messages", "DELETE", {"IDs": [ids["First one"]]})
    assert [m["Subject"] for m in get_json(api + "/messages")["messages"]] == ["Third one"]
    call(api + "/messages", "DELETE")  # no IDs: all
    assert get_json(api + "/messages")["total"] == 0


def test_smtpkit_sessions_have_transcripts_and_findings(served):
    srv, url = served
    # "box" is not a fully qualified EHLO name: one finding.
    with smtplib.SMTP(srv.host, srv.port, local_hostname="box", timeout=10) as c:
        c.sendmail("alice@example.test", ["bob@example.test"], b"Subject: s\r\n\r\nx\r\n")
    srv.wait_for_messages(1)
    srv.wait_for_sessions_closed()
    listing = get_json(url + "/api/smtpkit/sessions")
    sessions = listing["sessions"] if isinstance(listing, dict) else listing
    assert len(sessions) == 1, listing
    sid = sessions[0]["id"]
    one = get_json(url + "/api/smtpkit/sessions/" + sid)
    text = json.dumps(one)
    assert "client.domain.unqualified" in text
    assert "EHLO box" in text or "ehlo box" in text


def test_a_foreign_host_name_is_refused(served):
    srv, url = served
    # DNS rebinding: a page of another site reaching 127.0.0.1 by its own name.
    with pytest.raises(urllib.error.HTTPError) as e:
        call(url + "/api/v1/info", headers={"Host": "evil.example.test"})
    assert e.value.code == 403


def test_mailpit_chaos_triggers_become_replies(served):
    srv, url = served
    status, _, body = call(url + "/api/v1/chaos", "PUT", {"Recipient": {"ErrorCode": 451, "Probability": 100}})
    assert json.loads(body)["Recipient"] == {"ErrorCode": 451, "Probability": 100}
    assert get_json(url + "/api/v1/chaos")["Sender"]["Probability"] == 0
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
            c.sendmail("alice@example.test", ["bob@example.test"], b"Subject: s\r\n\r\nx\r\n")
    assert e.value.recipients["bob@example.test"][0] == 451
    call(url + "/api/v1/chaos", "PUT", {})  # all triggers off
    with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
        c.sendmail("alice@example.test", ["bob@example.test"], b"Subject: s\r\n\r\nx\r\n")
    srv.wait_for_messages(1)


def test_a_script_set_over_the_api_plays_in_new_sessions(served):
    srv, url = served
    script = "@rule MAIL FROM:{*}\nS: 550 5.7.1 set by the test\n@end\n"
    status, _, _ = call(url + "/api/smtpkit/script", "PUT", None)  # empty body: nothing set
    req = urllib.request.Request(url + "/api/smtpkit/script", data=script.encode(), method="PUT")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    assert call(url + "/api/smtpkit/script")[2].decode() == script
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
            c.sendmail("alice@example.test", ["bob@example.test"], b"Subject: s\r\n\r\nx\r\n")
    assert e.value.smtp_code == 550
    call(url + "/api/smtpkit/script", "DELETE")
    with smtplib.SMTP(srv.host, srv.port, local_hostname="client.example.test", timeout=10) as c:
        c.sendmail("alice@example.test", ["bob@example.test"], b"Subject: s\r\n\r\nx\r\n")
    srv.wait_for_messages(1)
    # A script that does not load is refused with where and why.
    bad = urllib.request.Request(url + "/api/smtpkit/script", data=b"@rule\n", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad, timeout=10)
    assert e.value.code == 400


def test_durable_messages_reach_the_api_once_their_group_is_committed(tmp_path):
    # --durable stores in groups and answers 250 only after the group is on
    # disk; the view learns of each message at that moment, not at DATA's end.
    srv = MockServer(http=True, durable=True, maildir=str(tmp_path / "md"))
    srv.start()
    try:
        url = srv.http_url
        send(srv, make_message(subject="durable one"), ["bob@example.test"], 1)
        send(srv, make_message(subject="durable two"), ["bob@example.test"], 2)
        listed = get_json(url + "/api/v1/messages")
        assert listed["total"] == 2
        assert sorted(m["Subject"] for m in listed["messages"]) == ["durable one", "durable two"]
        assert get_json(url + "/api/v1/message/latest")["Subject"] == "durable two"
    finally:
        srv.close()
