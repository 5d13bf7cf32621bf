"""Interop driver: runs kazoo 2.8 (Debian python3-kazoo) against one server.

Usage: /usr/bin/python3 kazoo_driver.py HOST:PORT

Prints one JSON object per scenario, {"scenario": name, "ok": bool, "error": str},
and exits 1 if any scenario failed. Every wait has a deadline; nothing sleeps.
"""
import json
import sys
import threading
import traceback

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, NoNodeError, NodeExistsError,
                              NotEmptyError, RolledBackError,
                              RuntimeInconsistency)
from kazoo.protocol.states import EventType

WAIT = 10.0  # seconds; generous deadline for any single event
ROOT = "/kazoo"


def client(addr):
    c = KazooClient(hosts=addr, timeout=10.0)
    c.start(timeout=WAIT)
    return c


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def raises(exc, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc:
        return
    raise AssertionError("%s not raised by %s%r" % (exc.__name__, fn.__name__, args))


class Recorder:
    """Collects callback values and lets the test wait for the n-th one."""

    def __init__(self):
        self.items = []
        self.cond = threading.Condition()

    def add(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait_for(self, n):
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.items) >= n, timeout=WAIT)
            expect(ok, "waited for %d callbacks, got %r" % (n, self.items))
            return list(self.items)


def crud(zk, addr):
    p = ROOT + "/crud"
    expect(zk.create(p, b"v1") == p, "create returned a different path")
    data, stat = zk.get(p)
    expect(data == b"v1" and stat.version == 0, "get: %r %r" % (data, stat))
    stat = zk.set(p, b"v2", version=0)
    expect(stat.version == 1, "set: version %d" % stat.version)
    expect(zk.exists(p).version == 1, "exists after set")
    zk.create(p + "/child", b"")
    expect(zk.get_children(p) == ["child"], "children %r" % zk.get_children(p))
    created, stat2 = zk.create(p + "/with-stat", b"x", include_data=True)  # create2
    expect(stat2.czxid > 0 and stat2.dataLength == 1, "create2 stat %r" % (stat2,))
    zk.delete(p + "/with-stat")
    zk.delete(p, recursive=True)
    expect(zk.exists(p) is None, "node still exists after delete")


def errors(zk, addr):
    p = ROOT + "/errors"
    raises(NoNodeError, zk.get, p)
    raises(NoNodeError, zk.create, p + "/a/b", b"")
    zk.create(p, b"")
    raises(NodeExistsError, zk.create, p, b"")
    raises(BadVersionError, zk.set, p, b"x", version=7)
    raises(BadVersionError, zk.delete, p, version=7)
    zk.create(p + "/c", b"")
    raises(NotEmptyError, zk.delete, p)
    zk.delete(p, recursive=True)


def sequential(zk, addr):
    p = ROOT + "/seq"
    zk.create(p, b"")
    made = [zk.create(p + "/n-", b"", sequence=True) for _ in range(3)]
    expect(made == [p + "/n-%010d" % i for i in range(3)], "sequential names %r" % made)
    eph = zk.create(p + "/e-", b"", ephemeral=True, sequence=True)
    expect(eph == p + "/e-0000000003", "ephemeral sequential %r" % eph)
    expect(sorted(zk.get_children(p)) == ["e-0000000003", "n-0000000000", "n-0000000001", "n-0000000002"],
           "children %r" % zk.get_children(p))


def data_watch(zk, addr):
    p = ROOT + "/dw"
    zk.create(p, b"v0")
    rec = Recorder()

    @zk.DataWatch(p)
    def _watch(data, stat):
        rec.add(data)

    rec.wait_for(1)
    for i in range(1, 4):
        zk.set(p, b"v%d" % i)
        rec.wait_for(i + 1)  # each change is seen before the next one
    zk.delete(p)
    seen = rec.wait_for(5)
    expect(seen == [b"v0", b"v1", b"v2", b"v3", None], "DataWatch saw %r" % seen)


def children_watch(zk, addr):
    p = ROOT + "/cw"
    zk.create(p, b"")
    rec = Recorder()

    @zk.ChildrenWatch(p)
    def _watch(children):
        rec.add(sorted(children))

    rec.wait_for(1)
    zk.create(p + "/a", b"")
    rec.wait_for(2)
    zk.create(p + "/b", b"")
    rec.wait_for(3)
    zk.delete(p + "/a")
    seen = rec.wait_for(4)
    expect(seen == [[], ["a"], ["a", "b"], ["b"]], "ChildrenWatch saw %r" % seen)


def transactions(zk, addr):
    p = ROOT + "/tx"
    zk.create(p, b"")
    t = zk.transaction()
    t.create(p + "/a", b"1")
    t.create(p + "/b", b"2")
    t.set_data(p + "/a", b"3", version=0)
    t.check(p + "/b", 0)
    t.delete(p + "/b")
    res = t.commit()
    expect(res[0] == p + "/a" and res[1] == p + "/b", "commit results %r" % res)
    expect(res[2].version == 1 and res[3] is True and res[4] is True, "commit results %r" % res)
    expect(zk.get(p + "/a")[0] == b"3" and zk.exists(p + "/b") is None, "commit not applied")

    t = zk.transaction()
    t.create(p + "/c", b"")
    t.check(p + "/a", 9)
    t.delete(p + "/a")
    res = t.commit()
    expect(isinstance(res[0], RolledBackError), "op 0: %r" % res)
    expect(isinstance(res[1], BadVersionError), "op 1: %r" % res)
    expect(isinstance(res[2], RuntimeInconsistency), "op 2: %r" % res)
    expect(zk.exists(p + "/c") is None and zk.exists(p + "/a") is not None, "failed transaction applied")


def ephemerals(zk, addr):
    p = ROOT + "/eph"
    zk.create(p, b"")
    other = client(addr)
    try:
        other.create(p + "/e", b"", ephemeral=True)
        gone = threading.Event()

        def watch(event):
            if event.type == EventType.DELETED:
                gone.set()

        expect(zk.exists(p + "/e", watch=watch) is not None, "ephemeral not visible to another client")
        expect(zk.exists(p + "/e").ephemeralOwner == other.client_id[0], "ephemeralOwner")
    finally:
        other.stop()
        other.close()
    expect(gone.wait(WAIT), "no NodeDeleted after the owner closed")
    expect(zk.exists(p + "/e") is None, "ephemeral survived its session")


def ruok(zk, addr):
    answer = zk.command(b"ruok")
    expect(answer == "imok", "ruok answered %r" % answer)


def lock(zk, addr):
    p = ROOT + "/lock"
    other = client(addr)
    try:
        l1 = zk.Lock(p, "one")
        l2 = other.Lock(p, "two")
        expect(l1.acquire(timeout=WAIT), "first lock not acquired")
        expect(not l2.acquire(blocking=False), "second client got a held lock")
        expect(l1.contenders() == ["one"], "contenders %r" % l1.contenders())
        got = threading.Event()

        def take():
            if l2.acquire(timeout=WAIT):
                got.set()

        th = threading.Thread(target=take)
        th.start()
        # Wait until the second contender is queued, observed through the lock node.
        other_ready = threading.Event()

        def kids(children):
            if len(children) >= 2:
                other_ready.set()

        zk.ChildrenWatch(p)(kids)
        expect(other_ready.wait(WAIT), "second contender never queued")
        expect(not got.is_set(), "lock granted while held")
        l1.release()
        expect(got.wait(WAIT), "lock not handed over after release")
        th.join(WAIT)
        l2.release()
    finally:
        other.stop()
        other.close()


SCENARIOS = [crud, errors, sequential, data_watch, children_watch, transactions, ephemerals, ruok, lock]


def main():
    addr = sys.argv[1]
    zk = client(addr)
    failed = False
    try:
        zk.ensure_path(ROOT)
        for fn in SCENARIOS:
            try:
                fn(zk, addr)
                print(json.dumps({"scenario": fn.__name__, "ok": True}), flush=True)
            except Exception as exc:  # report and go on with the next scenario
                failed = True
                print(json.dumps({"scenario": fn.__name__, "ok": False,
                                  "error": "%s: %s" % (type(exc).__name__, exc),
                                  "trace": traceback.format_exc()}), flush=True)
    finally:
        zk.stop()
        zk.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
