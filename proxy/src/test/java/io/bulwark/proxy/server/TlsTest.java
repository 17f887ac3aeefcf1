package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import org.junit.jupiter.api.AfterEach;
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

import static org.assertj.core.api.Assertions.assertThat;

/** TLS on the listener and to upstreams, with a CA and certificates made in the test. */
class TlsTest {

    @TempDir
    Path dir;

    X509Bundle ca;
    X509Bundle upstreamCert;
    X509Bundle listenerCert;
    TestUpstream upstream;
    ProxyHarness proxy;

    @BeforeEach
    void certificates() throws Exception {
        ca = new CertificateBuilder().subject("CN=Bulwark Test CA").setIsCertificateAuthority(true).ecp256()
                .buildSelfSigned();
        upstreamCert = new CertificateBuilder().subject("CN=upstream.test").addSanDnsName("upstream.test").ecp256()
                .buildIssuedBy(ca);
        listenerCert = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost")
                .addSanIpAddress("127.0.0.1").ecp256().buildIssuedBy(ca);
        upstream = TestUpstream.startTls("tls", TestUpstream.echo("tls"), SslContextBuilder
                .forServer(upstreamCert.getKeyPair().getPrivate(), upstreamCert.getCertificatePath()).build());
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        upstream.close();
    }

    private Path write(String name, String pem) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, pem);
        return p;
    }

    @Test
    void tlsOnBothSidesWithTheClustersCaAndServerName() throws Exception {
        Path caFile = write("ca.pem", ca.getCertificatePEM());
        Path cert = write("listener.pem", listenerCert.getCertificatePathPEM());
        Path key = write("listener.key", listenerCert.getPrivateKeyPEM());
        proxy = ProxyHarness.start("""
                clusters { secure { endpoints = [ "%s" ], tls = true, tls-ca-file = "%s",
                                     tls-server-name = "upstream.test" } }
                routes = [ { match { path-prefix = "/" }, cluster = secure } ]
                """.formatted(upstream.address(), caFile), "tls { cert-file = \"" + cert + "\", key-file = \"" + key + "\" }");

        SSLContext trustCa = SSLContext.getInstance("TLS");
        trustCa.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
        HttpClient client = HttpClient.newBuilder().sslContext(trustCa).version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + proxy.port() + "/secret")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"upstream\":\"tls\"");
        assertThat(upstream.lastHeaders().get("x-forwarded-proto")).isEqualTo("https");
    }

    @Test
    void aReloadPicksUpARenewedListenerCertificate() throws Exception {
        Path cert = write("listener.pem", listenerCert.getCertificatePathPEM());
        Path key = write("listener.key", listenerCert.getPrivateKeyPEM());
        proxy = ProxyHarness.start(
                "clusters { app { endpoints = [ \"127.0.0.1:9\" ] } }\n"
                        + "routes = [ { match { path-prefix = \"/\" }, cluster = app } ]\n",
                "tls { cert-file = \"" + cert + "\", key-file = \"" + key + "\" }");
        assertThat(servedSubject()).contains("CN=localhost");

        X509Bundle renewed = new CertificateBuilder().subject("CN=renewed.localhost").addSanIpAddress("127.0.0.1")
                .ecp256().buildIssuedBy(ca);
        Files.writeString(cert, renewed.getCertificatePathPEM());
        Files.writeString(key, renewed.getPrivateKeyPEM());
        java.nio.file.attribute.FileTime later = java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() + 2_000); // a distinct modification time even on coarse clocks
        Files.setLastModifiedTime(cert, later);
        Files.setLastModifiedTime(key, later);
        assertThat(proxy.bulwark().reload("test").accepted()).isTrue();
        assertThat(servedSubject()).contains("CN=renewed.localhost");
    }

    /** The subject of the certificate the listener presents to a new connection. */
    private String servedSubject() throws Exception {
        SSLContext trustCa = SSLContext.getInstance("TLS");
        trustCa.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) trustCa.getSocketFactory()
                .createSocket("127.0.0.1", proxy.port())) {
            socket.startHandshake();
            return ((java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0])
                    .getSubjectX500Principal().getName();
        }
    }

    @Test
    void anUpstreamCertificateNotTrustedOrNotNamingTheHostIsAConnectFailure() throws Exception {
        // The system trust store does not know the test CA.
        proxy = ProxyHarness.start("""
                clusters { secure { endpoints = [ "%s" ], tls = true, tls-server-name = "upstream.test" } }
                routes = [ { match { path-prefix = "/" }, cluster = secure, retry { max-retries = 0 } } ]
                """.formatted(upstream.address()));
        HttpResponse<String> untrusted = proxy.get("/x");
        assertThat(untrusted.statusCode()).isEqualTo(502);
        assertThat(untrusted.headers().firstValue("x-bulwark-error")).hasValue("upstream_connect_failure");
        assertThat(upstream.requests()).isZero();
        proxy.close();

        // Trusted CA, but the certificate names upstream.test, not the name we verify (127.0.0.1).
        Path caFile = write("ca.pem", ca.getCertificatePEM());
        proxy = ProxyHarness.start("""
                clusters { secure { endpoints = [ "%s" ], tls = true, tls-ca-file = "%s" } }
                routes = [ { match { path-prefix = "/" }, cluster = secure, retry { max-retries = 0 } } ]
                """.formatted(upstream.address(), caFile));
        HttpResponse<String> wrongName = proxy.get("/y");
        assertThat(wrongName.statusCode()).isEqualTo(502);
        assertThat(wrongName.headers().firstValue("x-bulwark-error")).hasValue("upstream_connect_failure");
        assertThat(upstream.requests()).isZero();
    }
}
