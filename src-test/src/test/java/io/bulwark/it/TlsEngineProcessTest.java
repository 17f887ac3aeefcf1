package io.bulwark.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The built jar's TLS engine: OpenSSL (BoringSSL) from the native library inside the jar where it
 * loads, the JDK's where it cannot (simulated with Netty's {@code -Dio.netty.handler.ssl.noOpenSsl=true}),
 * and a clear exit 2 when {@code provider = openssl} is forced there.
 */
class TlsEngineProcessTest {

    /** What Netty itself offers to turn the native engine off: the same path as a library that fails to load. */
    private static final List<String> NO_OPENSSL = List.of("-Dio.netty.handler.ssl.noOpenSsl=true");

    @TempDir
    Path dir;

    X509Bundle ca;
    Path cert;
    Path key;

    @BeforeEach
    void certificates() throws Exception {
        ca = new CertificateBuilder().subject("CN=Bulwark Test CA").setIsCertificateAuthority(true).ecp256()
                .buildSelfSigned();
        X509Bundle listener = new CertificateBuilder().subject("CN=localhost").addSanIpAddress("127.0.0.1")
                .ecp256().buildIssuedBy(ca);
        cert = Files.writeString(dir.resolve("listener.pem"), listener.getCertificatePathPEM());
        key = Files.writeString(dir.resolve("listener.key"), listener.getPrivateKeyPEM());
    }

    private Path config(int port, int adminPort, String provider) throws Exception {
        return Files.writeString(dir.resolve("tls.conf"), """
                bulwark {
                  listener { host = "127.0.0.1", port = %d, tls { cert-file = "%s", key-file = "%s", provider = %s } }
                  admin { port = %d }
                  clusters { app { endpoints = [ "127.0.0.1:9" ] } }
                  routes = [ { match { path-prefix = "/" }, cluster = app, retry { max-retries = 0 } } ]
                }
                """.formatted(port, cert, key, provider, adminPort));
    }

    @Test
    void theJarTerminatesTlsWithTheOpensslLibraryItCarries() throws Exception {
        assertServesHttpsWith(List.of(), "auto", "openssl", "listener openssl (BoringSSL)");
    }

    @Test
    void autoFallsBackToTheJdkEngineWhereOpensslCannotLoad() throws Exception {
        assertServesHttpsWith(NO_OPENSSL, "auto", "jdk", "listener jdk (OpenSSL unavailable: ");
    }

    @Test
    void forcedOpensslWhereItCannotLoadIsAConfigErrorWithExitTwo() throws Exception {
        Path config = config(Ports.free(), Ports.free(), "openssl");
        BulwarkProcess p = BulwarkProcess.runToEnd(NO_OPENSSL, "run", "--config", config.toString());
        assertThat(p.exitCode()).as(p.output()).isEqualTo(2);
        assertThat(p.stderr()).as(p.output()).containsExactly("bulwark.listener.tls.provider: openssl (expected: "
                + "auto or jdk on this machine: the OpenSSL engine cannot load: "
                + "OpenSSL was explicit disabled with -Dio.netty.handler.ssl.noOpenSsl=true)");
        assertThat(p.output()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    private void assertServesHttpsWith(List<String> jvmOptions, String provider, String engine, String startLine)
            throws Exception {
        int port = Ports.free();
        int adminPort = Ports.free();
        try (BulwarkProcess p = BulwarkProcess.startWithJvmOptions(jvmOptions, "run", "--config",
                config(port, adminPort, provider).toString())) {
            p.awaitReady(adminPort, Duration.ofSeconds(30));
            assertThat(p.stdout()).as(p.output()).anyMatch(l -> l.contains("TLS engine: " + startLine));

            SSLContext trustCa = SSLContext.getInstance("TLS");
            trustCa.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder().sslContext(trustCa).version(HttpClient.Version.HTTP_1_1)
                    .build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(502); // nothing listens on the upstream's port: the proxy answered
            assertThat(r.headers().firstValue("x-bulwark-error")).hasValue("upstream_connect_failure");

            HttpResponse<String> config = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + adminPort + "/api/v1/config")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(new ObjectMapper().readTree(config.body()).at("/tls_engine/listener").asText())
                    .isEqualTo(engine);
        }
    }
}
