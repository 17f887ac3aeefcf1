package io.bulwark.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.tls.TlsContexts;
import io.netty.handler.ssl.SslContextBuilder;
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
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS on the listener and to upstreams, with a CA and certificates made in the test, under each
 * engine: every test runs once with {@code provider = openssl} and once with {@code provider = jdk}.
 */
@ParameterizedClass(name = "provider = {0}")
@ValueSource(strings = {"openssl", "jdk"})
class TlsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameter
    String provider;

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

    /** A proxy with a TLS listener on {@link #listenerCert} and an upstream-less cluster. */
    private void startTlsListener() throws Exception {
        Path cert = write("listener.pem", listenerCert.getCertificatePathPEM());
        Path key = write("listener.key", listenerCert.getPrivateKeyPEM());
        proxy = ProxyHarness.start(
                "clusters { app { endpoints = [ \"127.0.0.1:9\" ] } }\n"
                        + "routes = [ { match { path-prefix = \"/\" }, cluster = app } ]\n",
                listenerTls(cert, key));
    }

    private String listenerTls(Path cert, Path key) {
        return "tls { cert-file = \"" + cert + "\", key-file = \"" + key + "\", provider = " + provider + " }";
    }

    private SSLContext trustingTheCa() throws Exception {
        SSLContext trustCa = SSLContext.getInstance("TLS");
        trustCa.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
        return trustCa;
    }

    @Test
    void tlsOnBothSidesWithTheClustersCaAndServerName() throws Exception {
        Path caFile = write("ca.pem", ca.getCertificatePEM());
        Path cert = write("listener.pem", listenerCert.getCertificatePathPEM());
        Path key = write("listener.key", listenerCert.getPrivateKeyPEM());
        proxy = ProxyHarness.start("""
                clusters { secure { endpoints = [ "%s" ], tls = true, tls-ca-file = "%s",
                                     tls-server-name = "upstream.test", tls-provider = %s } }
                routes = [ { match { path-prefix = "/" }, cluster = secure } ]
                """.formatted(upstream.address(), caFile, provider), listenerTls(cert, key));

        HttpClient client = HttpClient.newBuilder().sslContext(trustingTheCa())
                .version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + proxy.port() + "/secret")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"upstream\":\"tls\"");
        assertThat(upstream.lastHeaders().get("x-forwarded-proto")).isEqualTo("https");

        JsonNode engine = JSON.readTree(proxy.admin("/api/v1/config").body()).get("tls_engine");
        assertThat(engine.get("listener").asText()).isEqualTo(provider);
        assertThat(engine.get("clusters").get("secure").asText()).isEqualTo(provider);
        assertThat(engine.get("openssl_version").asText()).contains("BoringSSL");
    }

    @Test
    void aReloadPicksUpARenewedListenerCertificate() throws Exception {
        Path cert = write("listener.pem", listenerCert.getCertificatePathPEM());
        Path key = write("listener.key", listenerCert.getPrivateKeyPEM());
        proxy = ProxyHarness.start(
                "clusters { app { endpoints = [ \"127.0.0.1:9\" ] } }\n"
                        + "routes = [ { match { path-prefix = \"/\" }, cluster = app } ]\n",
                listenerTls(cert, key));
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
        try (SSLSocket socket = (SSLSocket) trustingTheCa().getSocketFactory()
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
                clusters { secure { endpoints = [ "%s" ], tls = true, tls-server-name = "upstream.test",
                                     tls-provider = %s } }
                routes = [ { match { path-prefix = "/" }, cluster = secure, retry { max-retries = 0 } } ]
                """.formatted(upstream.address(), provider));
        HttpResponse<String> untrusted = proxy.get("/x");
        assertThat(untrusted.statusCode()).isEqualTo(502);
        assertThat(untrusted.headers().firstValue("x-bulwark-error")).hasValue("upstream_connect_failure");
        assertThat(upstream.requests()).isZero();
        proxy.close();

        // Trusted CA, but the certificate names upstream.test, not the name we verify (127.0.0.1).
        Path caFile = write("ca.pem", ca.getCertificatePEM());
        proxy = ProxyHarness.start("""
                clusters { secure { endpoints = [ "%s" ], tls = true, tls-ca-file = "%s", tls-provider = %s } }
                routes = [ { match { path-prefix = "/" }, cluster = secure, retry { max-retries = 0 } } ]
                """.formatted(upstream.address(), caFile, provider));
        HttpResponse<String> wrongName = proxy.get("/y");
        assertThat(wrongName.statusCode()).isEqualTo(502);
        assertThat(wrongName.headers().firstValue("x-bulwark-error")).hasValue("upstream_connect_failure");
        assertThat(upstream.requests()).isZero();
    }

    @Test
    void theListenerSpeaksTls13And12WithForwardSecretAeadSuitesOnly() throws Exception {
        startTlsListener();
        SSLContext client = trustingTheCa();

        assertThat(handshake(client, "TLSv1.3", null).getProtocol()).isEqualTo("TLSv1.3");
        SSLSession tls12 = handshake(client, "TLSv1.2", null);
        assertThat(tls12.getProtocol()).isEqualTo("TLSv1.2");
        assertThat(TlsContexts.LISTENER_CIPHERS).contains(tls12.getCipherSuite());
        assertThat(tls12.getCipherSuite()).startsWith("TLS_ECDHE_ECDSA_WITH_");

        // A client that offers only CBC suites (no AEAD) finds no common cipher.
        assertThatThrownBy(() -> handshake(client, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"))
                .isInstanceOf(SSLHandshakeException.class);
        // Nor one that offers only RSA key exchange (no forward secrecy).
        assertThatThrownBy(() -> handshake(client, "TLSv1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256"))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void aReconnectingClientResumesItsSessionOnTls12And13() throws Exception {
        startTlsListener();
        for (String protocol : new String[] {"TLSv1.2", "TLSv1.3"}) {
            CertificateChecks checks = new CertificateChecks(ca);
            SSLContext client = checks.sslContext(); // its own client session cache
            handshake(client, protocol, null);
            assertThat(checks.count()).as(protocol + " first connection: a full handshake").isEqualTo(1);
            handshake(client, protocol, null);
            handshake(client, protocol, null);
            assertThat(checks.count()).as(protocol + " reconnections: resumed, no certificate sent").isEqualTo(1);

            CertificateChecks stranger = new CertificateChecks(ca);
            handshake(stranger.sslContext(), protocol, null);
            assertThat(stranger.count()).as(protocol + " another client: a full handshake").isEqualTo(1);
        }
    }

    @Test
    void aClusterPresentsItsClientCertificateToAnUpstreamThatRequiresOne() throws Exception {
        X509Bundle client = new CertificateBuilder().subject("CN=bulwark-sidecar").ecp256().buildIssuedBy(ca);
        try (TestUpstream strict = TestUpstream.startTls("mtls", TestUpstream.echo("mtls"), SslContextBuilder
                .forServer(upstreamCert.getKeyPair().getPrivate(), upstreamCert.getCertificatePath())
                .trustManager(ca.toTrustManagerFactory())
                .clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE).build())) {
            Path caFile = write("ca.pem", ca.getCertificatePEM());
            Path cert = write("client.pem", client.getCertificatePathPEM());
            Path key = write("client.key", client.getPrivateKeyPEM());
            proxy = ProxyHarness.start("""
                    clusters {
                      with-cert { endpoints = [ "%1$s" ], tls = true, tls-ca-file = "%2$s", tls-server-name = "upstream.test",
                                  tls-provider = %3$s, tls-cert-file = "%4$s", tls-key-file = "%5$s" }
                      without { endpoints = [ "%1$s" ], tls = true, tls-ca-file = "%2$s", tls-server-name = "upstream.test",
                                tls-provider = %3$s }
                    }
                    routes = [ { match { path-prefix = "/mtls" }, cluster = with-cert },
                               { match { path-prefix = "/plain" }, cluster = without, retry { max-retries = 0 } } ]
                    """.formatted(strict.address(), caFile, provider, cert, key));

            HttpResponse<String> ok = proxy.get("/mtls/a");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("\"upstream\":\"mtls\"");
            HttpResponse<String> refused = proxy.get("/plain/a");
            assertThat(refused.statusCode()).as("no client certificate: the upstream ends the handshake")
                    .isBetween(502, 503);
            assertThat(refused.headers().firstValue("x-bulwark-error")).isPresent();
        }
    }

    @Test
    void aClientCertificateNeedsItsKeyAndAKeyThatIsNotOneFailsTheStart() throws Exception {
        Path cert = write("client.pem", upstreamCert.getCertificatePathPEM());
        assertThatThrownBy(() -> ProxyHarness.start("""
                clusters { c { endpoints = [ "127.0.0.1:9" ], tls = true, tls-cert-file = "%s" } }
                routes = [ { cluster = c } ]
                """.formatted(cert))).hasMessageContaining("bulwark.clusters.c.tls-key-file")
                .hasMessageContaining("tls-cert-file and tls-key-file together");
        Path notAKey = write("not-a-key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> ProxyHarness.start("""
                clusters { c { endpoints = [ "127.0.0.1:9" ], tls = true, tls-provider = %s,
                               tls-cert-file = "%s", tls-key-file = "%s" } }
                routes = [ { cluster = c } ]
                """.formatted(provider, cert, notAKey))).hasMessageContaining("bulwark.clusters.c.tls-cert-file");
    }

    @Test
    void aTicketResumesAcrossOneKeyRotationAndNotTwo() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(provider.equals("openssl"),
                "the JDK engine keeps and rotates its own ticket keys");
        startTlsListener();
        TlsContexts tls = proxy.bulwark().proxyContext().tls();
        CertificateChecks checks = new CertificateChecks(ca);
        SSLContext client = checks.sslContext();
        handshake(client, "TLSv1.3", null);
        assertThat(checks.count()).isEqualTo(1);

        tls.rotateTicketKeys(); // the ticket's key is now the previous one: it still decrypts
        handshake(client, "TLSv1.3", null);
        assertThat(checks.count()).as("resumed with the previous key").isEqualTo(1);

        CertificateChecks fresh = new CertificateChecks(ca);
        SSLContext other = fresh.sslContext();
        handshake(other, "TLSv1.3", null);
        tls.rotateTicketKeys();
        tls.rotateTicketKeys(); // that ticket's key is gone
        handshake(other, "TLSv1.3", null);
        assertThat(fresh.count()).as("a full handshake once the key is gone").isEqualTo(2);
    }

    /**
     * A client trusting the test CA that counts how often it was shown the server's certificate:
     * once per full handshake, never on a resumed one (RFC 8446 2.2, RFC 5246 7.3).
     */
    static final class CertificateChecks extends javax.net.ssl.X509ExtendedTrustManager {
        private final javax.net.ssl.X509ExtendedTrustManager delegate;
        private final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();

        CertificateChecks(X509Bundle ca) throws Exception {
            this.delegate = (javax.net.ssl.X509ExtendedTrustManager) ca.toTrustManagerFactory().getTrustManagers()[0];
        }

        SSLContext sslContext() throws Exception {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new javax.net.ssl.TrustManager[] {this}, null);
            return context;
        }

        int count() {
            return count.get();
        }

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType,
                                       java.net.Socket socket) throws java.security.cert.CertificateException {
            count.incrementAndGet();
            delegate.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType,
                                       javax.net.ssl.SSLEngine engine) throws java.security.cert.CertificateException {
            count.incrementAndGet();
            delegate.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType)
                throws java.security.cert.CertificateException {
            count.incrementAndGet();
            delegate.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType,
                                       java.net.Socket socket) throws java.security.cert.CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType,
                                       javax.net.ssl.SSLEngine engine) throws java.security.cert.CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType)
                throws java.security.cert.CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        @Override
        public java.security.cert.X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }

    /** One TLS connection to the proxy with {@code protocol} (and only {@code cipher}, when set); its session. */
    private SSLSession handshake(SSLContext client, String protocol, String cipher) throws Exception {
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", proxy.port())) {
            socket.setEnabledProtocols(new String[] {protocol});
            if (cipher != null) {
                socket.setEnabledCipherSuites(new String[] {cipher});
            }
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            // TLS 1.3 tickets arrive after the handshake: read the (empty) response to a request so
            // the client has them before the connection closes.
            socket.getOutputStream().write("GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            socket.getInputStream().readAllBytes();
            return socket.getSession();
        }
    }
}
