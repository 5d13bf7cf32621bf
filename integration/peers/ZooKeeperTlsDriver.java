// Interop driver: the Apache ZooKeeper 3.8 Java client over TLS (Netty socket)
// against one server. The TLS settings come from system properties, as an
// operator would give them:
//
//   java -Dzookeeper.client.secure=true
//        -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty
//        -Dzookeeper.ssl.keyStore.location=client.pem -Dzookeeper.ssl.keyStore.type=PEM
//        -Dzookeeper.ssl.trustStore.location=ca.pem -Dzookeeper.ssl.trustStore.type=PEM
//        -cp CLASSPATH ZooKeeperTlsDriver HOST:PORT MODE
//
// MODE "crud" expects a session and runs create/get/set/children/watch/delete;
// MODE "refused" expects no session within a few seconds (no client
// certificate given to a server that needs one).
//
// Prints one JSON object per scenario, {"scenario", "ok", "error"}, and exits
// 1 if one failed. Every wait has a deadline; nothing sleeps.

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class ZooKeeperTlsDriver {
    static void check(boolean cond, String msg) {
        if (!cond) {
            throw new AssertionError(msg);
        }
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    static void crud(ZooKeeper zk) throws Exception {
        byte[] one = "one".getBytes(StandardCharsets.UTF_8);
        zk.create("/java-tls", one, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/java-tls/e", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        Stat st = new Stat();
        check(new String(zk.getData("/java-tls", false, st), StandardCharsets.UTF_8).equals("one"), "getData");
        CountDownLatch changed = new CountDownLatch(1);
        zk.getData("/java-tls", ev -> {
            if (ev.getType() == Watcher.Event.EventType.NodeDataChanged) {
                changed.countDown();
            }
        }, null);
        zk.setData("/java-tls", "two".getBytes(StandardCharsets.UTF_8), st.getVersion());
        check(changed.await(10, TimeUnit.SECONDS), "no NodeDataChanged over TLS");
        List<String> kids = zk.getChildren("/java-tls", false);
        check(kids.equals(Collections.singletonList("e")), "children " + kids);
        try {
            zk.create("/java-tls", one, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            throw new AssertionError("second create succeeded");
        } catch (KeeperException.NodeExistsException expected) {
            // as it should
        }
        zk.delete("/java-tls/e", -1);
        zk.delete("/java-tls", -1);
        check(zk.exists("/java-tls", false) == null, "still there after delete");
    }

    public static void main(String[] args) throws Exception {
        String addr = args[0];
        String mode = args[1];
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(addr, 10000, ev -> {
            if (ev.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        boolean ok = true;
        String err = "";
        try {
            if (mode.equals("refused")) {
                check(!connected.await(4, TimeUnit.SECONDS), "a session was made without a client certificate");
            } else {
                check(connected.await(20, TimeUnit.SECONDS), "no session over TLS");
                crud(zk);
            }
        } catch (Throwable t) {
            ok = false;
            err = t.toString();
        } finally {
            zk.close();
        }
        System.out.println("{\"scenario\": " + quote("tls_" + mode) + ", \"ok\": " + ok + ", \"error\": " + quote(err) + "}");
        System.exit(ok ? 0 : 1);
    }
}
