"""Interop peer for issue #14: kazoo's Counter in Curator mode on one server.

Usage: /usr/bin/python3 kazoo_counter.py HOST:PORT SCENARIO PATH N

Scenarios:
  read PATH N   the counter (support_curator=True) must read N
  add PATH N    add 1 to it, N times (kazoo retries each on a version clash)

Prints one JSON line {"scenario", "ok", "error", "data"} and exits 1 on failure.
"""

import json
import sys
import traceback

from kazoo.client import KazooClient


def main():
    addr, scenario, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    zk = KazooClient(hosts=addr, timeout=20)
    zk.start(timeout=20)
    ok, err, data = True, "", ""
    try:
        counter = zk.Counter(path, support_curator=True)
        if scenario == "read":
            if counter.value != n:
                raise AssertionError("counter %r, want %d" % (counter.value, n))
        elif scenario == "add":
            for _ in range(n):
                counter += 1
        else:
            raise ValueError("unknown scenario " + scenario)
        data = str(counter.value)
    except Exception as e:  # report every failure as a result line
        ok, err = False, "%s\n%s" % (e, traceback.format_exc())
    finally:
        zk.stop()
        zk.close()
    print(json.dumps({"scenario": scenario, "ok": ok, "error": err, "data": data}), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
