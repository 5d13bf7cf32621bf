// Interop driver: runs Curator 5.4 on the ZooKeeper 3.8 Java client (Debian
// jars) against one server.
//
// Usage: java -cp CLASSPATH CuratorDriver HOST:PORT
//
// Prints one JSON object per scenario, {"scenario": name, "ok": bool, "error": str},
// and exits 1 if any scenario failed. Every wait has a deadline; nothing sleeps.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Stat;

public class CuratorDriver {
    static final long WAIT = 10; // seconds; deadline for any single wait
    static final String ROOT = "/curator";

    interface Scenario {
        void run(CuratorFramework c, CuratorFramework c2) throws Exception;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void expect(boolean cond, String msg) {
        if (!cond) {
            throw new AssertionError(msg);
        }
    }

    static <T extends Throwable> void raises(Class<T> want, Scenario body, CuratorFramework c) throws Exception {
        try {
            body.run(c, null);
        } catch (Throwable t) {
            if (want.isInstance(t)) {
                return;
            }
            throw new AssertionError("want " + want.getSimpleName() + ", got " + t, t);
        }
        throw new AssertionError(want.getSimpleName() + " not thrown");
    }

    static CuratorFramework client(String addr) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(addr)
                .sessionTimeoutMs(30000)
                .connectionTimeoutMs(10000)
                .retryPolicy(new RetryNTimes(3, 200))
                .build();
        c.start();
        if (!c.blockUntilConnected((int) WAIT, TimeUnit.SECONDS)) {
            c.close();
            throw new AssertionError("not connected to " + addr);
        }
        return c;
    }

    static <T> T next(BlockingQueue<T> q, String what) throws InterruptedException {
        T v = q.poll(WAIT, TimeUnit.SECONDS);
        expect(v != null, "timed out waiting for " + what);
        return v;
    }

    // awaitChildren waits, with a child watch rather than polling, until path has n children.
    static void awaitChildren(CuratorFramework c, String path, int n, String msg) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT);
        while (true) {
            CountDownLatch changed = new CountDownLatch(1);
            List<String> kids = c.getChildren().usingWatcher((Watcher) e -> changed.countDown()).forPath(path);
            if (kids.size() >= n) {
                return;
            }
            long left = deadline - System.nanoTime();
            expect(left > 0 && changed.await(left, TimeUnit.NANOSECONDS), msg + " (children " + kids + ")");
        }
    }

    static void crud(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/crud/a/b";
        Stat st = new Stat();
        // create2 with parents created as containers (op 19)
        String made = c.create().creatingParentContainersIfNeeded().storingStatIn(st).forPath(p, b("v1"));
        expect(made.equals(p), "created " + made);
        expect(st.getCzxid() > 0 && st.getVersion() == 0 && st.getDataLength() == 2, "create2 stat " + st);
        expect(Arrays.equals(c.getData().forPath(p), b("v1")), "getData");
        Stat s2 = c.setData().withVersion(0).forPath(p, b("v2"));
        expect(s2.getVersion() == 1 && s2.getMzxid() > st.getMzxid(), "setData stat " + s2);
        expect(c.checkExists().forPath(p).getVersion() == 1, "checkExists version");
        expect(c.getChildren().forPath(ROOT + "/crud/a").equals(List.of("b")), "children");
        String seq = c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(ROOT + "/crud/s-");
        expect(seq.equals(ROOT + "/crud/s-0000000001"), "sequential " + seq);
        c.delete().deletingChildrenIfNeeded().forPath(ROOT + "/crud");
        expect(c.checkExists().forPath(ROOT + "/crud") == null, "still exists after delete");
    }

    static void errors(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/errors";
        c.create().forPath(p);
        raises(KeeperException.NodeExistsException.class, (x, y) -> x.create().forPath(p), c);
        raises(KeeperException.NoNodeException.class, (x, y) -> x.getData().forPath(p + "/none"), c);
        raises(KeeperException.BadVersionException.class, (x, y) -> x.setData().withVersion(5).forPath(p, b("x")), c);
        c.create().forPath(p + "/kid");
        raises(KeeperException.NotEmptyException.class, (x, y) -> x.delete().forPath(p), c);
        c.delete().deletingChildrenIfNeeded().forPath(p);
    }

    static void transaction(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/tx";
        c.create().forPath(p);
        List<CuratorTransactionResult> res = c.transaction().forOperations(
                c.transactionOp().create().forPath(p + "/a", b("1")),
                c.transactionOp().setData().withVersion(0).forPath(p + "/a", b("2")),
                c.transactionOp().check().withVersion(1).forPath(p + "/a"),
                c.transactionOp().create().forPath(p + "/b"),
                c.transactionOp().delete().forPath(p + "/b"));
        expect(res.size() == 5 && res.get(0).getForPath().equals(p + "/a"), "results " + res);
        expect(Arrays.equals(c.getData().forPath(p + "/a"), b("2")), "transaction not applied");
        try {
            c.transaction().forOperations(
                    c.transactionOp().create().forPath(p + "/c"),
                    c.transactionOp().check().withVersion(7).forPath(p + "/a"));
            throw new AssertionError("failing transaction succeeded");
        } catch (KeeperException e) {
            expect(e.code() == KeeperException.Code.BADVERSION, "failure code " + e.code());
        }
        expect(c.checkExists().forPath(p + "/c") == null, "failed transaction applied");
    }

    static void mutex(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/mutex";
        InterProcessMutex m1 = new InterProcessMutex(c, p);
        InterProcessMutex m2 = new InterProcessMutex(c2, p);
        expect(m1.acquire(WAIT, TimeUnit.SECONDS), "first acquire");
        // InterProcessMutex is owned by a thread: acquire and release on the same one.
        CompletableFuture<Boolean> second = CompletableFuture.supplyAsync(() -> {
            try {
                boolean got = m2.acquire(WAIT, TimeUnit.SECONDS);
                if (got) {
                    m2.release();
                }
                return got;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        // The second client must be queued behind the first before release.
        awaitChildren(c, p, 2, "second contender never queued");
        expect(!second.isDone(), "second client got a held lock");
        m1.release();
        expect(second.get(WAIT, TimeUnit.SECONDS), "lock not handed over");
    }

    static void leaderLatch(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/latch";
        LeaderLatch l1 = new LeaderLatch(c, p, "one");
        LeaderLatch l2 = new LeaderLatch(c2, p, "two");
        l1.start();
        expect(l1.await(WAIT, TimeUnit.SECONDS), "first latch not leader");
        l2.start();
        awaitChildren(c, p, 2, "second participant never joined");
        expect(!l2.hasLeadership(), "two leaders");
        expect(l2.getLeader().getId().equals("one"), "leader id " + l2.getLeader().getId());
        l1.close();
        expect(l2.await(WAIT, TimeUnit.SECONDS), "leadership not handed over");
        l2.close();
    }

    static void barrier(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/barrier";
        DistributedBarrier b1 = new DistributedBarrier(c, p);
        DistributedBarrier b2 = new DistributedBarrier(c2, p);
        b1.setBarrier();
        CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                return b2.waitOnBarrier(WAIT, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        b1.removeBarrier();
        expect(waiter.get(WAIT + 1, TimeUnit.SECONDS), "waiter not released");
    }

    static void doubleBarrier(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/double";
        DistributedDoubleBarrier d1 = new DistributedDoubleBarrier(c, p, 2);
        DistributedDoubleBarrier d2 = new DistributedDoubleBarrier(c2, p, 2);
        CompletableFuture<Boolean> other = CompletableFuture.supplyAsync(() -> {
            try {
                return d2.enter(WAIT, TimeUnit.SECONDS) && d2.leave(WAIT, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        expect(d1.enter(WAIT, TimeUnit.SECONDS), "enter");
        expect(d1.leave(WAIT, TimeUnit.SECONDS), "leave");
        expect(other.get(WAIT + 1, TimeUnit.SECONDS), "second member");
    }

    static void queue(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/queue";
        SimpleDistributedQueue producer = new SimpleDistributedQueue(c, p);
        SimpleDistributedQueue consumer = new SimpleDistributedQueue(c2, p);
        for (String s : List.of("one", "two", "three")) {
            expect(producer.offer(b(s)), "offer " + s);
        }
        for (String s : List.of("one", "two", "three")) {
            byte[] got = consumer.poll(WAIT, TimeUnit.SECONDS);
            expect(got != null && Arrays.equals(got, b(s)), "took " + (got == null ? null : new String(got)) + ", want " + s);
        }
        expect(consumer.poll() == null, "queue not empty");
    }

    static void cache(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/cache";
        c.create().forPath(p, b("root"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CountDownLatch initialized = new CountDownLatch(1);
        // CuratorCache registers one persistent recursive watch (addWatch mode 1).
        try (CuratorCache cc = CuratorCache.build(c, p)) {
            cc.listenable().addListener(CuratorCacheListener.builder()
                    .forAll((type, old, data) -> events.add(type + " " + (data != null ? data.getPath() : old.getPath())))
                    .forInitialized(initialized::countDown)
                    .build());
            cc.start();
            expect(initialized.await(WAIT, TimeUnit.SECONDS), "cache never initialized");
            expect(next(events, "initial").equals("NODE_CREATED " + p), "initial event");
            // The cache reads a node after its event, so each change is awaited
            // before the next one (a node created and deleted at once is never seen).
            List<String> got = new ArrayList<>();
            c2.create().forPath(p + "/x", b("1"));
            got.add(next(events, "NODE_CREATED"));
            c2.setData().forPath(p + "/x", b("2"));
            got.add(next(events, "NODE_CHANGED"));
            c2.create().forPath(p + "/x/y");
            got.add(next(events, "NODE_CREATED of a grandchild"));
            c2.delete().forPath(p + "/x/y");
            got.add(next(events, "NODE_DELETED of a grandchild"));
            c2.delete().forPath(p + "/x");
            got.add(next(events, "NODE_DELETED"));
            List<String> want = List.of("NODE_CREATED " + p + "/x", "NODE_CHANGED " + p + "/x",
                    "NODE_CREATED " + p + "/x/y", "NODE_DELETED " + p + "/x/y", "NODE_DELETED " + p + "/x");
            expect(got.equals(want), "cache events " + got);
            expect(cc.get(p).isPresent() && cc.size() == 1, "cache content");
        }
    }

    static void persistentWatcher(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/pw";
        c.create().forPath(p);
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CountDownLatch armed = new CountDownLatch(1);
        try (PersistentWatcher w = new PersistentWatcher(c, p, true)) {
            w.getListenable().addListener(e -> {
                if (e.getType() != Watcher.Event.EventType.None) {
                    events.add(e.getType() + " " + e.getPath());
                }
            });
            w.getResetListenable().addListener(armed::countDown);
            w.start();
            expect(armed.await(WAIT, TimeUnit.SECONDS), "persistent watch never registered");
            c2.create().forPath(p + "/a");
            c2.setData().forPath(p + "/a", b("x"));
            c2.create().forPath(p + "/a/b");
            c2.delete().forPath(p + "/a/b");
            List<String> want = List.of("NodeCreated " + p + "/a", "NodeDataChanged " + p + "/a",
                    "NodeCreated " + p + "/a/b", "NodeDeleted " + p + "/a/b");
            List<String> got = new ArrayList<>();
            for (int i = 0; i < want.size(); i++) {
                got.add(next(events, "watch event " + want.get(i) + " (so far " + got + ")"));
            }
            expect(got.equals(want), "persistent watcher events " + got);
        }
    }

    static void ephemerals(CuratorFramework c, CuratorFramework c2) throws Exception {
        String p = ROOT + "/eph";
        c.create().forPath(p);
        c2.create().withMode(CreateMode.EPHEMERAL).forPath(p + "/mine");
        ZooKeeper zk2 = c2.getZookeeperClient().getZooKeeper();
        expect(zk2.getEphemerals(p).equals(List.of(p + "/mine")), "getEphemerals " + zk2.getEphemerals(p));
        expect(c.getZookeeperClient().getZooKeeper().getEphemerals(p).isEmpty(), "other session's ephemerals");
        expect(zk2.getAllChildrenNumber(p) == 1, "getAllChildrenNumber");
        List<ClientInfo> who = zk2.whoAmI();
        expect(who.stream().anyMatch(ci -> ci.getAuthScheme().equals("ip")), "whoAmI " + who);
        CountDownLatch gone = new CountDownLatch(1);
        expect(c.checkExists().usingWatcher((Watcher) e -> {
            if (e.getType() == Watcher.Event.EventType.NodeDeleted) {
                gone.countDown();
            }
        }).forPath(p + "/mine") != null, "ephemeral not visible to the other client");
        c2.close(); // closeSession removes the ephemeral
        expect(gone.await(WAIT, TimeUnit.SECONDS), "no NodeDeleted after close");
        expect(c.checkExists().forPath(p + "/mine") == null, "ephemeral survived its session");
    }

    static String json(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        String addr = args[0];
        String[] names = {"crud", "errors", "transaction", "mutex", "leaderLatch", "barrier", "doubleBarrier",
                "queue", "cache", "persistentWatcher", "ephemerals"};
        Scenario[] runs = {CuratorDriver::crud, CuratorDriver::errors, CuratorDriver::transaction,
                CuratorDriver::mutex, CuratorDriver::leaderLatch, CuratorDriver::barrier,
                CuratorDriver::doubleBarrier, CuratorDriver::queue, CuratorDriver::cache,
                CuratorDriver::persistentWatcher, CuratorDriver::ephemerals};
        boolean failed = false;
        try (CuratorFramework c = client(addr)) {
            c.create().creatingParentsIfNeeded().forPath(ROOT);
            for (int i = 0; i < runs.length; i++) {
                // A fresh second client per scenario: some scenarios close it.
                CuratorFramework c2 = client(addr);
                try {
                    runs[i].run(c, c2);
                    System.out.println("{\"scenario\": " + json(names[i]) + ", \"ok\": true}");
                } catch (Throwable t) {
                    failed = true;
                    java.io.StringWriter tr = new java.io.StringWriter();
                    t.printStackTrace(new java.io.PrintWriter(tr));
                    System.out.println("{\"scenario\": " + json(names[i]) + ", \"ok\": false, \"error\": "
                            + json(t.toString()) + ", \"trace\": " + json(tr.toString()) + "}");
                } finally {
                    c2.close();
                }
                System.out.flush();
            }
        }
        System.exit(failed ? 1 : 0);
    }
}
