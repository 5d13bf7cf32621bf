// Interop peer for herd's queue and barrier recipes: one Curator 5.4 role per
// run, against one server, so a Go test can play the other side.
//
// Usage: java -cp CLASSPATH CuratorQueuePeer HOST:PORT MODE PATH [ARG]
//
//   produce PATH N   offer "item-0" .. "item-<N-1>" on a SimpleDistributedQueue
//   take PATH N      take N items from a SimpleDistributedQueue, expecting
//                    "item-<first>" .. in order, where ARG is "N" or "N@FIRST"
//   hold PATH        set a DistributedBarrier, wait for a line on stdin, remove it
//   wait PATH        wait on a DistributedBarrier until it is removed
//   double PATH N    enter and leave a DistributedDoubleBarrier of N members
//
// Prints one JSON object per event, {"event": name} or {"event": "error",
// "error": text}, and exits 1 on error. Every wait has a deadline; nothing sleeps.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.retry.RetryNTimes;

public class CuratorQueuePeer {
    static final long WAIT = 20; // seconds; deadline for any single wait

    static void event(String name) {
        System.out.println("{\"event\": \"" + name + "\"}");
        System.out.flush();
    }

    static void check(boolean cond, String msg) {
        if (!cond) {
            throw new AssertionError(msg);
        }
    }

    static void run(CuratorFramework c, String mode, String path, String arg) throws Exception {
        switch (mode) {
            case "produce" -> {
                SimpleDistributedQueue q = new SimpleDistributedQueue(c, path);
                int n = Integer.parseInt(arg);
                for (int i = 0; i < n; i++) {
                    check(q.offer(("item-" + i).getBytes(StandardCharsets.UTF_8)), "offer " + i);
                }
                event("produced");
            }
            case "take" -> {
                SimpleDistributedQueue q = new SimpleDistributedQueue(c, path);
                String[] parts = arg.split("@");
                int n = Integer.parseInt(parts[0]);
                int first = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
                for (int i = first; i < first + n; i++) {
                    byte[] got = q.poll(WAIT, TimeUnit.SECONDS);
                    check(got != null, "timed out waiting for item-" + i);
                    String s = new String(got, StandardCharsets.UTF_8);
                    check(s.equals("item-" + i), "took " + s + ", want item-" + i);
                }
                event("taken");
            }
            case "hold" -> {
                DistributedBarrier b = new DistributedBarrier(c, path);
                b.setBarrier();
                event("set");
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                b.removeBarrier();
                event("removed");
            }
            case "wait" -> {
                DistributedBarrier b = new DistributedBarrier(c, path);
                event("waiting");
                check(b.waitOnBarrier(WAIT, TimeUnit.SECONDS), "barrier not removed in time");
                event("released");
            }
            case "double" -> {
                DistributedDoubleBarrier d = new DistributedDoubleBarrier(c, path, Integer.parseInt(arg));
                check(d.enter(WAIT, TimeUnit.SECONDS), "enter timed out");
                event("entered");
                check(d.leave(WAIT, TimeUnit.SECONDS), "leave timed out");
                event("left");
            }
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
    }

    static String json(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
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
        String arg = args.length > 3 ? args[3] : "";
        int code = 0;
        try (CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(args[0])
                .sessionTimeoutMs(30000)
                .connectionTimeoutMs(10000)
                .retryPolicy(new RetryNTimes(3, 200))
                .build()) {
            c.start();
            check(c.blockUntilConnected((int) WAIT, TimeUnit.SECONDS), "not connected to " + args[0]);
            run(c, args[1], args[2], arg);
        } catch (Throwable t) {
            System.out.println("{\"event\": \"error\", \"error\": " + json(t.toString()) + "}");
            code = 1;
        }
        System.out.flush();
        System.exit(code);
    }
}
