package io.bulwark.proxy.testing;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.config.ConfigValidationException;
import io.bulwark.proxy.Bulwark;
import io.bulwark.routing.Cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Starts a real Bulwark in the test JVM on free loopback ports from a HOCON snippet. The
 * snippet is the inside of {@code bulwark { ... }} without the listener and admin blocks, which
 * the harness adds.
 */
public final class ProxyHarness implements AutoCloseable {

    private final Bulwark bulwark;
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private ProxyHarness(Bulwark bulwark) {
        this.bulwark = bulwark;
    }

    public static ProxyHarness start(String clustersAndRoutes) throws Exception {
        return start(clustersAndRoutes, "");
    }

    /** @param listenerExtras extra lines for the listener block, e.g. {@code max-body-size = 1KiB} */
    public static ProxyHarness start(String clustersAndRoutes, String listenerExtras) throws Exception {
        return start(clustersAndRoutes, listenerExtras, Cluster.Resolver.SYSTEM);
    }

    /** @param resolver what hostname endpoints resolve to (tests fake DNS with it) */
    public static ProxyHarness start(String clustersAndRoutes, String listenerExtras, Cluster.Resolver resolver)
            throws Exception {
        String hocon = "bulwark {\n"
                + "  listener { host = \"127.0.0.1\", port = " + freePort() + "\n" + listenerExtras + "\n }\n"
                + "  admin { host = \"127.0.0.1\", port = " + freePort() + " }\n"
                + "  shutdown { drain-timeout = 5s }\n"
                + clustersAndRoutes + "\n}\n";
        BulwarkConfig config;
        try {
            config = ConfigLoader.parse(hocon);
        } catch (ConfigValidationException e) {
            throw new IllegalArgumentException("test config is invalid:\n" + e.getMessage() + "\n" + hocon, e);
        }
        return new ProxyHarness(Bulwark.start(config, resolver));
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Bulwark bulwark() {
        return bulwark;
    }

    public int port() {
        return bulwark.proxyAddress().getPort();
    }

    public int adminPort() {
        return bulwark.adminAddress().getPort();
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    public HttpClient client() {
        return client;
    }

    public HttpResponse<String> get(String pathAndQuery, String... headerPairs) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(30)).GET();
        for (int i = 0; i + 1 < headerPairs.length; i += 2) {
            b.header(headerPairs[i], headerPairs[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> admin(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort() + path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        bulwark.close();
    }
}
