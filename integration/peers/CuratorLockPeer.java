// Interop peer for herd's lock and election recipes: Curator 5.4's
// InterProcessMutex, LeaderLatch and LeaderSelector, driven one command per
// line on stdin so that a Go test can interleave them with herd's Mutex,
// Latch and Selector on the same paths.
//
// Usage: java -cp CLASSPATH CuratorLockPeer HOST:PORT
//
// Every command gets one reply line, "ok [value]" or "err message", in
// order. Things that happen later are printed as "event name" lines:
// "event mutex-acquired", "event lead-start", "event lead-end". Every wait has
// a deadline; nothing sleeps.
//
// Commands:
//   mutex-acquire PATH               acquire (blocking)
//   mutex-acquire-async PATH         start acquiring; "event mutex-acquired" when held
//   mutex-held                       ok true|false
//   mutex-release                    release
//   mutex-count PATH COUNTER N       N times: acquire, counter := counter + 1 (unversioned), release
//   latch-start PATH ID | latch-has | latch-await | latch-leader | latch-close
//   selector-start PATH ID           lead until selector-yield (or leadership is cancelled)
//   selector-has | selector-leader | selector-yield | selector-close
//   quit

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;

public class CuratorLockPeer {
    static final long WAIT = 20; // seconds; deadline for any single wait

    static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    // InterProcessMutex is owned by a thread: every mutex operation runs on this one.
    static final ExecutorService mutexThread = Executors.newSingleThreadExecutor();
    static InterProcessMutex mutex;
    static LeaderLatch latch;
    static LeaderSelector selector;
    static final Semaphore yield = new Semaphore(0);

    public static void main(String[] args) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(args[0])
                .sessionTimeoutMs(30000)
                .connectionTimeoutMs(10000)
                .retryPolicy(new RetryNTimes(10, 100))
                .build();
        c.start();
        if (!c.blockUntilConnected((int) WAIT, TimeUnit.SECONDS)) {
            say("err not connected to " + args[0]);
            System.exit(1);
        }
        say("ok ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split(" ");
            if (f[0].equals("quit")) {
                break;
            }
            try {
                String v = run(c, f);
                say(v == null ? "ok" : "ok " + v);
            } catch (Throwable t) {
                say("err " + t.toString().replace('\n', ' '));
            }
        }
        if (selector != null) {
            selector.close();
        }
        if (latch != null) {
            latch.close();
        }
        mutexThread.shutdownNow();
        c.close();
        System.exit(0);
    }

    static <T> T onMutexThread(Callable<T> f) throws Exception {
        return mutexThread.submit(f).get(2 * WAIT, TimeUnit.SECONDS);
    }

    static String run(CuratorFramework c, String[] f) throws Exception {
        switch (f[0]) {
            case "mutex-acquire":
                mutex = new InterProcessMutex(c, f[1]);
                return onMutexThread(() -> {
                    if (!mutex.acquire(WAIT, TimeUnit.SECONDS)) {
                        throw new AssertionError("mutex not acquired in time");
                    }
                    return null;
                });
            case "mutex-acquire-async": {
                InterProcessMutex m = new InterProcessMutex(c, f[1]);
                mutex = m;
                mutexThread.submit(() -> {
                    try {
                        if (m.acquire(2 * WAIT, TimeUnit.SECONDS)) {
                            say("event mutex-acquired");
                        } else {
                            say("event mutex-timeout");
                        }
                    } catch (Exception e) {
                        say("event mutex-failed " + e);
                    }
                });
                return null;
            }
            case "mutex-held":
                return Boolean.toString(mutex != null && mutex.isAcquiredInThisProcess());
            case "mutex-release":
                return onMutexThread(() -> {
                    mutex.release();
                    return null;
                });
            case "mutex-count": {
                InterProcessMutex m = new InterProcessMutex(c, f[1]);
                String counter = f[2];
                int n = Integer.parseInt(f[3]);
                return onMutexThread(() -> {
                    for (int i = 0; i < n; i++) {
                        if (!m.acquire(WAIT, TimeUnit.SECONDS)) {
                            throw new AssertionError("mutex not acquired in time");
                        }
                        try {
                            int v = Integer.parseInt(new String(c.getData().forPath(counter), StandardCharsets.UTF_8));
                            c.setData().forPath(counter, Integer.toString(v + 1).getBytes(StandardCharsets.UTF_8));
                        } finally {
                            m.release();
                        }
                    }
                    return null;
                });
            }
            case "latch-start":
                latch = new LeaderLatch(c, f[1], f[2]);
                latch.start();
                return null;
            case "latch-has":
                return Boolean.toString(latch.hasLeadership());
            case "latch-await":
                if (!latch.await(WAIT, TimeUnit.SECONDS)) {
                    throw new AssertionError("no leadership in time");
                }
                return null;
            case "latch-leader":
                return latch.getLeader().getId();
            case "latch-close":
                latch.close();
                latch = null;
                return null;
            case "selector-start":
                selector = new LeaderSelector(c, f[1], new LeaderSelectorListenerAdapter() {
                    @Override
                    public void takeLeadership(CuratorFramework client) throws Exception {
                        say("event lead-start");
                        try {
                            if (!yield.tryAcquire(2 * WAIT, TimeUnit.SECONDS)) {
                                say("event lead-timeout");
                            }
                        } finally {
                            say("event lead-end");
                        }
                    }
                });
                selector.setId(f[2]);
                selector.start();
                return null;
            case "selector-has":
                return Boolean.toString(selector.hasLeadership());
            case "selector-leader":
                return selector.getLeader().getId();
            case "selector-yield":
                yield.release();
                return null;
            case "selector-close":
                selector.close();
                selector = null;
                return null;
            default:
                throw new IllegalArgumentException("unknown command " + f[0]);
        }
    }
}
