#!/usr/bin/env python3
# reset_mail.py — a small application under test: it mails a password-reset
# link through an SMTP server (smtplib), and says what became of it. It is
# the example of docs/python.md; its tests (test_reset_mail.py) run it
# against smtpkit's mock server.
#
#   reset_mail.py USER@DOMAIN TOKEN [--host H] [--port P]    (or SMTP_HOST / SMTP_PORT)
#
# Exit status: 0 sent; 1 the server refused the address for good (5xx);
# 75 (EX_TEMPFAIL) the server was unavailable or said "try later" (4xx,
# closed connection), so a job queue should retry; 2 usage.
# Limits: plain SMTP (no TLS, no AUTH), one recipient, no retries itself.
import argparse
import email.message
import email.utils
import os
import smtplib
import sys

SENDER = "no-reply@app.example.test"
BASE_URL = "https://app.example.test/reset?token="
EX_OK, EX_REJECTED, EX_USAGE, EX_TEMPFAIL = 0, 1, 2, 75


class Outcome:
    def __init__(self, status, detail, exit_code):
        self.status, self.detail, self.exit_code = status, detail, exit_code

    def __repr__(self):
        return "Outcome(%s: %s)" % (self.status, self.detail)


def build_message(to, token):
    msg = email.message.EmailMessage()
    msg["From"] = "Example App <%s>" % SENDER
    msg["To"] = to
    msg["Subject"] = "Reset your password"
    msg["Date"] = email.utils.formatdate(usegmt=True)
    msg["Message-ID"] = email.utils.make_msgid(domain="app.example.test")
    msg.set_content("Someone asked to reset the password of %s.\n\n"
                    "To choose a new one, open:\n%s%s\n\n"
                    ".If it was not you, ignore this mail.\n" % (to, BASE_URL, token))
    return msg


def _reply(code, text):
    return "%d %s" % (code, text.decode("utf-8", "replace") if isinstance(text, bytes) else text)


def send_reset(to, token, host, port, timeout=10):
    """Send the mail; never raises for SMTP trouble: returns an Outcome."""
    msg = build_message(to, token)
    try:
        with smtplib.SMTP(host, port, local_hostname="app.example.test", timeout=timeout) as smtp:
            smtp.send_message(msg, from_addr=SENDER, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients.get(to, (451, b"refused"))
        if code >= 500:
            return Outcome("rejected", "%s refused: %s" % (to, _reply(code, text)), EX_REJECTED)
        return Outcome("deferred", "%s deferred: %s" % (to, _reply(code, text)), EX_TEMPFAIL)
    except smtplib.SMTPResponseException as e:  # greeting, MAIL or DATA refused
        status, rc = ("rejected", EX_REJECTED) if e.smtp_code >= 500 else ("deferred", EX_TEMPFAIL)
        return Outcome(status, "server said %s" % _reply(e.smtp_code, e.smtp_error), rc)
    except (smtplib.SMTPException, OSError) as e:  # closed connection, refused, timeout
        return Outcome("deferred", "server unavailable: %s" % e, EX_TEMPFAIL)
    return Outcome("sent", "reset link mailed to %s" % to, EX_OK)


def main(argv=None):
    p = argparse.ArgumentParser(description="Mail a password-reset link.")
    p.add_argument("to")
    p.add_argument("token")
    p.add_argument("--host", default=os.environ.get("SMTP_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("SMTP_PORT", "25")))
    a = p.parse_args(argv)
    outcome = send_reset(a.to, a.token, a.host, a.port)
    print("%s: %s" % (outcome.status, outcome.detail))
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
