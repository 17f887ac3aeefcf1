package io.bulwark.proxy.testing;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.config.ConfigValidationException;
import io.bulwark.proxy.Bulwark;
import io.bulwark.routing.Cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private Bulwark bulwark;
    private final Path file;
    private final int port;
    private final int adminPort;
    private final String listenerExtras;
    private final String adminExtras;
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private ProxyHarness(Path file, int port, int adminPort, String listenerExtras, String adminExtras) {
        this.file = file;
        this.port = port;
        this.adminPort = adminPort;
        this.listenerExtras = listenerExtras;
        this.adminExtras = adminExtras;
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
        return start(clustersAndRoutes, listenerExtras, "", resolver);
    }

    /**
     * Writes the config to a temporary file (so reloads can re-read it) and starts on it.
     *
     * @param adminExtras extra lines for the admin block, e.g. {@code token = "s3cret"}
     */
    public static ProxyHarness start(String clustersAndRoutes, String listenerExtras, String adminExtras,
                                     Cluster.Resolver resolver) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return startOn(freePort(), freePort(), clustersAndRoutes, listenerExtras, adminExtras, resolver);
            } catch (Bulwark.ListenException e) {
                if (attempt == 3) { // something else took the port between the probe and the bind, three times
                    throw e;
                }
            }
        }
    }

    private static ProxyHarness startOn(int port, int adminPort, String clustersAndRoutes, String listenerExtras,
                                        String adminExtras, Cluster.Resolver resolver) throws Exception {
        Path file = Files.createTempFile("bulwark-test", ".conf");
        file.toFile().deleteOnExit();
        ProxyHarness h = new ProxyHarness(file, port, adminPort, listenerExtras, adminExtras);
        String hocon = h.render(clustersAndRoutes);
        Files.writeString(file, hocon);
        BulwarkConfig config;
        try {
            config = ConfigLoader.load(file);
        } catch (ConfigValidationException e) {
            throw new IllegalArgumentException("test config is invalid:\n" + e.getMessage() + "\n" + hocon, e);
        }
        h.bulwark = Bulwark.start(config, file, resolver);
        return h;
    }

    private String render(String clustersAndRoutes) {
        return "bulwark {\n"
                + "  listener { host = \"127.0.0.1\", port = " + port + "\n" + listenerExtras + "\n }\n"
                + "  admin { host = \"127.0.0.1\", port = " + adminPort + "\n" + adminExtras + "\n }\n"
                + "  shutdown { drain-timeout = 5s }\n"
                + clustersAndRoutes + "\n}\n";
    }

    /** Rewrites the config file with new clusters and routes (same listener and admin); does not reload. */
    public void rewrite(String clustersAndRoutes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, render(clustersAndRoutes));
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes arbitrary text as the config file (for invalid configs); does not reload. */
    public void rewriteRaw(String text) throws IOException {
        Files.writeString(file, text);
    }

    /** A loopback port nothing listens on (see {@link FreePorts}). */
    public static int freePort() {
        return FreePorts.next();
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
        return admin("GET", path, null);
    }

    /** An admin call; {@code body} null for none. Add a token with {@link #adminWithToken}. */
    public HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return adminWithToken(method, path, body, null);
    }

    public HttpResponse<String> adminWithToken(String method, String path, String body, String token)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        bulwark.close();
    }
}
