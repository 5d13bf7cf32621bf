"""Interop driver: kazoo 2.8 (Debian python3-kazoo) over TLS against one server.

Usage: /usr/bin/python3 kazoo_tls.py HOST:PORT CA CERT KEY

Scenarios (one JSON line each, {"scenario", "ok", "error"}):
  tls_crud            with the client certificate: create, get, set, children,
                      an ephemeral and delete work over TLS
  tls_refused_no_cert without a certificate the server (ssl.clientAuth=need)
                      gives no session
Every wait has a deadline; nothing sleeps.
"""
import json
import sys
import traceback

from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError

WAIT = 10.0


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def tls_crud(addr, ca, cert, key):
    c = KazooClient(hosts=addr, timeout=10.0, use_ssl=True, ca=ca, certfile=cert, keyfile=key)
    c.start(timeout=WAIT)
    try:
        c.create("/kazoo-tls/a", b"one", makepath=True)
        data, stat = c.get("/kazoo-tls/a")
        expect(data == b"one" and stat.version == 0, "get: %r %r" % (data, stat))
        c.set("/kazoo-tls/a", b"two", version=0)
        c.create("/kazoo-tls/e", b"", ephemeral=True)
        kids = sorted(c.get_children("/kazoo-tls"))
        expect(kids == ["a", "e"], "children: %r" % kids)
        expect(c.get("/kazoo-tls/a")[0] == b"two", "set did not stick")
        c.delete("/kazoo-tls", recursive=True)
        expect(c.exists("/kazoo-tls") is None, "still there after delete")
    finally:
        c.stop()
        c.close()


def tls_refused_no_cert(addr, ca, cert, key):
    c = KazooClient(hosts=addr, timeout=4.0, use_ssl=True, ca=ca)
    try:
        c.start(timeout=4.0)
    except KazooTimeoutError:
        return
    finally:
        c.stop()
        c.close()
    raise AssertionError("a session was made without a client certificate")


def main():
    addr, ca, cert, key = sys.argv[1:5]
    failed = False
    for fn in (tls_crud, tls_refused_no_cert):
        try:
            fn(addr, ca, cert, key)
            out = {"scenario": fn.__name__, "ok": True}
        except Exception as e:  # report every failure as a result line
            failed = True
            out = {"scenario": fn.__name__, "ok": False, "error": repr(e), "trace": traceback.format_exc()}
        print(json.dumps(out), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
