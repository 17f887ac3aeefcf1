package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * h2 negotiated by ALPN on the TLS listener, with the JDK's own HTTP/2 client (and h2load), under
 * both TLS engines; HTTP/1.1 stays the fallback for clients that do not offer h2, and for all
 * clients when {@code http2.enabled = false}.
 */
@ParameterizedClass(name = "provider = {0}")
@ValueSource(strings = {"openssl", "jdk"})
class Http2TlsTest {

    @Parameter
    String provider;

    @TempDir
    Path dir;

    private X509Bundle ca;
    private TestUpstream upstream;
    private ProxyHarness proxy;

    @BeforeEach
    void start() throws Exception {
        ca = new CertificateBuilder().subject("CN=Bulwark Test CA").setIsCertificateAuthority(true).ecp256()
                .buildSelfSigned();
        upstream = TestUpstream.start("app", TestUpstream.echo("app"));
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        upstream.close();
    }

    private void startProxy(String http2) throws Exception {
        X509Bundle cert = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost")
                .addSanIpAddress("127.0.0.1").ecp256().buildIssuedBy(ca);
        Path certFile = dir.resolve("listener.pem");
        Path keyFile = dir.resolve("listener.key");
        Files.writeString(certFile, cert.getCertificatePathPEM());
        Files.writeString(keyFile, cert.getPrivateKeyPEM());
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = app } ]
                """.formatted(upstream.address()),
                "tls { cert-file = \"" + certFile + "\", key-file = \"" + keyFile + "\", provider = " + provider
                        + " }\n" + http2);
    }

    private HttpResponse<String> send(HttpClient.Version version, String method, String body) throws Exception {
        SSLContext trustCa = SSLContext.getInstance("TLS");
        trustCa.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
        HttpClient client = HttpClient.newBuilder().sslContext(trustCa).version(version).build();
        return client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + proxy.port() + "/tls"))
                        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body))
                        .timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void alpnNegotiatesH2ForAnHttp2Client() throws Exception {
        startProxy("");
        HttpResponse<String> r = send(HttpClient.Version.HTTP_2, "POST", "over h2");

        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"upstream\":\"app\"").contains("\"body_bytes\":7");
        assertThat(r.headers().firstValue("x-request-id")).isPresent();
        assertThat(upstream.lastHeaders().get("x-forwarded-proto")).isEqualTo("https");
    }

    @Test
    void aClientWithoutH2GetsHttp11() throws Exception {
        startProxy("");
        HttpResponse<String> r = send(HttpClient.Version.HTTP_1_1, "GET", null);

        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(r.statusCode()).isEqualTo(200);
    }

    @Test
    void withHttp2OffAlpnOffersOnlyHttp11() throws Exception {
        startProxy("http2 { enabled = false }");
        HttpResponse<String> r = send(HttpClient.Version.HTTP_2, "GET", null);

        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(r.statusCode()).isEqualTo(200);
    }

    @Test
    void h2loadOverTls() throws Exception {
        assumeThat(Http2DownstreamTest.onPath("h2load")).as("h2load installed").isTrue();
        startProxy("");
        Process p = new ProcessBuilder("h2load", "-n", "200", "-c", "2", "-m", "10",
                "https://127.0.0.1:" + proxy.port() + "/load").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("Application protocol: h2").contains("200 succeeded");
    }
}
