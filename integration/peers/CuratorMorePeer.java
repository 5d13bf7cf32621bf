// Interop peer for issue #14's recipes: Curator 5.4 SharedCount,
// DistributedAtomicLong, ServiceDiscovery (curator-x-discovery) and
// CuratorCache, run one scenario at a time against one server, so that the Go
// test can interleave its own side.
//
// Usage: java -cp CLASSPATH CuratorMorePeer HOST:PORT SCENARIO ARGS...
//
// Prints JSON lines {"scenario": name, "ok": bool, "error": str, "data": str};
// "ready" lines tell the Go side that this side is waiting for it, and some
// scenarios then wait for a line on standard input. Every wait has a
// deadline; nothing sleeps.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.atomic.PromotedToLock;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

public class CuratorMorePeer {
    static final long WAIT = 20; // seconds; deadline for any single wait

    static void expect(boolean cond, String msg) {
        if (!cond) {
            throw new AssertionError(msg);
        }
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                default:
                    if (ch < 0x20) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
            }
        }
        return b.append('"').toString();
    }

    static void report(String scenario, boolean ok, String error, String data) {
        System.out.println("{\"scenario\":" + quote(scenario) + ",\"ok\":" + ok + ",\"error\":" + quote(error)
                + ",\"data\":" + quote(data) + "}");
        System.out.flush();
    }

    static final BufferedReader STDIN = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    // ready tells the Go side we wait for it, then waits for its line.
    static void ready(String scenario) throws Exception {
        report(scenario + ":ready", true, "", "");
        expect(STDIN.readLine() != null, "stdin closed before the Go side went on");
    }

    public static void main(String[] args) throws Exception {
        String addr = args[0], scenario = args[1];
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(addr)
                .sessionTimeoutMs(30000).connectionTimeoutMs(10000).retryPolicy(new RetryNTimes(3, 200)).build();
        c.start();
        int code = 0;
        try {
            expect(c.blockUntilConnected((int) WAIT, TimeUnit.SECONDS), "not connected to " + addr);
            String data = run(c, scenario, args);
            report(scenario, true, "", data);
        } catch (Throwable t) {
            report(scenario, false, t.toString(), "");
            t.printStackTrace();
            code = 1;
        } finally {
            c.close();
        }
        System.exit(code);
    }

    static String run(CuratorFramework c, String scenario, String[] a) throws Exception {
        switch (scenario) {
            case "sharedCountRead": {
                // args: path expected
                try (SharedCount sc = new SharedCount(c, a[2], -1)) {
                    sc.start();
                    expect(sc.getCount() == Integer.parseInt(a[3]), "count " + sc.getCount() + ", want " + a[3]);
                    return Integer.toString(sc.getCount());
                }
            }
            case "sharedCountIncrement": {
                // args: path n — add 1, n times, with trySetCount
                try (SharedCount sc = new SharedCount(c, a[2], 0)) {
                    sc.start();
                    for (int i = 0; i < Integer.parseInt(a[3]); i++) {
                        while (true) {
                            VersionedValue<Integer> v = sc.getVersionedValue();
                            if (sc.trySetCount(v, v.getValue() + 1)) {
                                break;
                            }
                        }
                    }
                    return Integer.toString(sc.getCount());
                }
            }
            case "atomicLongIncrement": {
                // args: path n — increment n times, promoted to <path>-lock
                PromotedToLock lock = PromotedToLock.builder().lockPath(a[2] + "-lock")
                        .timeout(WAIT, TimeUnit.SECONDS).retryPolicy(new RetryNTimes(10, 5)).build();
                DistributedAtomicLong n = new DistributedAtomicLong(c, a[2], new RetryNTimes(2, 5), lock);
                for (int i = 0; i < Integer.parseInt(a[3]); i++) {
                    AtomicValue<Long> r = n.increment();
                    if (!r.succeeded()) {
                        i--;
                    }
                }
                return Long.toString(n.get().postValue());
            }
            case "discoveryFind": {
                // args: base name id — the instance as Curator reads it, re-serialized
                JsonInstanceSerializer<String> ser = new JsonInstanceSerializer<>(String.class);
                try (ServiceDiscovery<String> d = ServiceDiscoveryBuilder.builder(String.class).client(c).basePath(a[2])
                        .serializer(ser).build()) {
                    d.start();
                    ServiceInstance<String> in = d.queryForInstance(a[3], a[4]);
                    expect(in != null, "no instance " + a[3] + "/" + a[4]);
                    try (ServiceProvider<String> p = d.serviceProviderBuilder().serviceName(a[3]).build()) {
                        p.start();
                        ServiceInstance<String> picked = p.getInstance();
                        expect(picked != null && picked.getId().equals(a[4]), "provider picked " + picked);
                    }
                    return new String(ser.serialize(in), StandardCharsets.UTF_8) + "|" + in.buildUriSpec();
                }
            }
            case "discoveryRegister": {
                // args: base name id — register a DYNAMIC instance, wait, unregister
                JsonInstanceSerializer<String> ser = new JsonInstanceSerializer<>(String.class);
                ServiceInstance<String> in = ServiceInstance.<String>builder().name(a[3]).id(a[4])
                        .address("127.0.0.9").port(9090).sslPort(9443).payload("java-payload <&>")
                        .registrationTimeUTC(1700000000123L).serviceType(ServiceType.DYNAMIC)
                        .uriSpec(new UriSpec("{scheme}://{address}:{ssl-port}/x")).build();
                try (ServiceDiscovery<String> d = ServiceDiscoveryBuilder.builder(String.class).client(c).basePath(a[2])
                        .serializer(ser).thisInstance(in).build()) {
                    d.start();
                    report(scenario + ":registered", true, "", new String(ser.serialize(in), StandardCharsets.UTF_8));
                    ready(scenario);
                }
                return "";
            }
            case "cache": {
                // args: root marker — a CuratorCache over root; when root's data is
                // the marker, dump the cache as lines "path czxid mzxid hexdata"
                String root = a[2];
                byte[] marker = a[3].getBytes(StandardCharsets.UTF_8);
                CountDownLatch init = new CountDownLatch(1), done = new CountDownLatch(1);
                try (CuratorCache cache = CuratorCache.build(c, root)) {
                    cache.listenable().addListener(CuratorCacheListener.builder()
                            .forInitialized(init::countDown)
                            .forAll((type, oldData, data) -> {
                                if (data != null && data.getPath().equals(root) && java.util.Arrays.equals(data.getData(), marker)) {
                                    done.countDown();
                                }
                            }).build());
                    cache.start();
                    expect(init.await(WAIT, TimeUnit.SECONDS), "cache not initialized");
                    ready(scenario);
                    expect(done.await(WAIT, TimeUnit.SECONDS), "marker not seen");
                    Map<String, String> dump = new TreeMap<>();
                    cache.stream().forEach((ChildData d) -> {
                        StringBuilder hex = new StringBuilder();
                        for (byte x : d.getData()) {
                            hex.append(String.format("%02x", x));
                        }
                        dump.put(d.getPath(), d.getStat().getCzxid() + " " + d.getStat().getMzxid() + " " + hex);
                    });
                    StringBuilder out = new StringBuilder();
                    dump.forEach((p, v) -> out.append(p).append(' ').append(v).append('\n'));
                    return out.toString();
                }
            }
            default:
                throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }
}
