package dev.hive.opensearch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Starts one OpenSearch node in this JVM for Hive's tests: HTTP on 127.0.0.1 at the given port,
 * single-node discovery, no security, data under the given home folder. Runs until the process
 * gets SIGTERM or SIGINT, then closes the node.
 *
 * <p>Usage: {@code java -cp <classpath> dev.hive.opensearch.Launcher <home> <http-port>}
 */
public final class Launcher {
    /** The modules Hive's mappings and requests need, loaded from the class path. */
    private static final Collection<Class<? extends Plugin>> MODULES = List.of(
        Netty4Plugin.class, CommonAnalysisPlugin.class, MapperExtrasPlugin.class, ReindexPlugin.class);

    private Launcher() {}

    /** A node with {@link #MODULES} as class-path plugins. */
    private static final class EmbeddedNode extends Node {
        EmbeddedNode(Settings settings, Path config) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), config, () -> "hive-test"),
                MODULES, false);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Launcher <home> <http-port>");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Path config = Files.createDirectories(home.resolve("config"));
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "hive-test")
            .put("node.name", "hive-test")
            .put("network.host", "127.0.0.1")
            .put("http.port", args[1])
            .put("transport.port", "0")
            .put("discovery.type", "single-node")
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            // a test machine's disk may be fuller than the watermarks allow; it is thrown away
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // the suites create and delete many small indices at once
            .put("cluster.max_shards_per_node", 10000)
            .build();
        LogConfigurator.registerErrorListener();
        LogConfigurator.configureWithoutConfig(settings);

        Node node = new EmbeddedNode(settings, config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "hive-opensearch-stop"));
        node.start();
        System.out.println("hive-opensearch: started, http://127.0.0.1:" + args[1]);
        stopped.await();
    }
}
