#!/usr/bin/python3
"""Submission test server for nudge's integration tests (run by tests/support/smtp.rs).

Real aiosmtpd (Debian python3-aiosmtpd 1.4.3) on 127.0.0.1:
  --mode starttls : plain port, STARTTLS required before anything else, then AUTH
  --mode implicit : TLS from the first byte (SMTPS), then AUTH
AUTH PLAIN/LOGIN is required and checked against --user/--password.
--after-data says what happens once a message's text has been received (it is spooled first):
  reply : answer 250 (the default)
  drop  : close the connection without a reply (the outcome is unknown to the client)
  hang  : answer only after --hang-seconds (the client gives up waiting first)
Each accepted message is written to --spool as NNNNNN.json:
  {"mail_from": ..., "rcpt_tos": [...], "data_b64": ..., "auth_user": ...}
Prints "ready <port>" on stdout once it accepts connections. Exits when stdin closes
(the parent went away) or on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["starttls", "implicit"], required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--spool", required=True)
    ap.add_argument("--after-data", choices=["reply", "drop", "hang"], default="reply")
    ap.add_argument("--hang-seconds", type=float, default=30.0)
    args = ap.parse_args()

    # The protocol dialogue goes to stderr, which the Rust side keeps as the server's log.
    logging.basicConfig(
        level=logging.DEBUG,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("asyncio").setLevel(logging.WARNING)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)

    lock = threading.Lock()
    # Continue numbering after any files already in the spool (a restarted server).
    counter = [len([n for n in os.listdir(args.spool) if n.endswith(".json")])]

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == args.user.encode()
            and auth_data.password == args.password.encode()
        )
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False: smtp_AUTH then answers "535 5.7.8 Authentication credentials invalid"
        # (the default handled=True would send no reply at all).
        return AuthResult(success=False, handled=False)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            data = envelope.original_content
            if data is None:
                data = envelope.content
            if isinstance(data, str):
                data = data.encode("utf-8", "surrogateescape")
            login = None
            if isinstance(session.auth_data, LoginPassword):
                login = session.auth_data.login.decode("utf-8", "replace")
            record = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data_b64": base64.b64encode(data).decode("ascii"),
                "auth_user": login,
            }
            with lock:
                counter[0] += 1
                name = "%06d.json" % counter[0]
            tmp = os.path.join(args.spool, "." + name + ".tmp")
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.rename(tmp, os.path.join(args.spool, name))
            if args.after_data == "drop":
                logging.getLogger("smtp_server").info("dropping the connection after DATA")
                server.transport.abort()
                return "250 OK queued as %s (never heard)" % name
            if args.after_data == "hang":
                logging.getLogger("smtp_server").info("holding the reply after DATA")
                await asyncio.sleep(args.hang_seconds)
            return "250 OK queued as %s" % name

    common = dict(
        hostname="127.0.0.1",
        port=args.port,
        server_hostname="localhost",
        authenticator=authenticator,
        auth_required=True,
        ready_timeout=15.0,
    )
    if args.mode == "starttls":
        controller = Controller(
            Handler(),
            tls_context=ctx,
            require_starttls=True,
            auth_require_tls=True,
            **common,
        )
    else:
        # Every connection is TLS from the start, but aiosmtpd 1.4.3 only counts STARTTLS as
        # "TLS" for auth_require_tls (it would refuse AUTH with 538), so turn that check off.
        controller = Controller(
            Handler(),
            ssl_context=ctx,
            auth_require_tls=False,
            **common,
        )

    try:
        controller.start()
    except Exception as e:  # e.g. port taken: the Rust side retries with a new port
        print("failed to start: %r" % (e,), file=sys.stderr, flush=True)
        sys.exit(3)

    done = threading.Event()

    def on_signal(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("ready %d" % args.port, flush=True)
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
