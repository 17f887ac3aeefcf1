package io.bulwark.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.H2Client;
import io.bulwark.proxy.testing.H2Upstream;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
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

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * h2 over TLS to the upstreams ({@code protocol = http2}, {@code tls = true}): ALPN offers h2 and
 * the upstream must choose it, under both TLS engines.
 */
@ParameterizedClass(name = "tls-provider = {0}")
@ValueSource(strings = {"openssl", "jdk"})
class UpstreamHttp2TlsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameter
    String provider;

    @TempDir
    Path dir;

    private X509Bundle ca;
    private X509Bundle upstreamCert;
    private H2Upstream upstream;
    private ProxyHarness proxy;

    @BeforeEach
    void start() throws Exception {
        ca = new CertificateBuilder().subject("CN=Bulwark Test CA").setIsCertificateAuthority(true).ecp256()
                .buildSelfSigned();
        upstreamCert = new CertificateBuilder().subject("CN=upstream.test").addSanDnsName("upstream.test").ecp256()
                .buildIssuedBy(ca);
        upstream = H2Upstream.tls("h2tls", SslContextBuilder
                .forServer(upstreamCert.getKeyPair().getPrivate(), upstreamCert.getCertificatePath())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2))
                .build());
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        upstream.close();
    }

    private ProxyHarness proxyTo(String address) throws Exception {
        Path caFile = dir.resolve("ca.pem");
        Files.writeString(caFile, ca.getCertificatePEM());
        return ProxyHarness.start("""
                clusters { secure { endpoints = [ "%s" ], protocol = http2, tls = true, tls-ca-file = "%s",
                                     tls-server-name = "upstream.test", tls-provider = %s } }
                routes = [ { match { path-prefix = "/" }, cluster = secure, retry { max-retries = 0 } } ]
                """.formatted(address, caFile, provider));
    }

    @Test
    void anHttp1ClientReachesAnH2UpstreamOverTls() throws Exception {
        proxy = proxyTo(upstream.address());
        HttpResponse<String> r = proxy.get("/secure/1", "te", "trailers");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode echo = JSON.readTree(r.body());
        assertThat(echo.get("upstream").asText()).isEqualTo("h2tls");
        assertThat(echo.get("scheme").asText()).isEqualTo("https");
        assertThat(echo.get("path").asText()).isEqualTo("/secure/1");

        JsonNode protocols = JSON.readTree(proxy.admin("/api/v1/config").body()).get("protocols");
        assertThat(protocols.get("clusters").get("secure").asText()).isEqualTo("h2");
    }

    @Test
    void anHttp2ClientGetsTrailersFromAnH2UpstreamOverTls() throws Exception {
        proxy = proxyTo(upstream.address());
        try (H2Client client = H2Client.h2c(proxy.port())) {
            H2Client.Response r = client.get("/trailers");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("body");
            assertThat(r.trailers().get("x-trailer")).hasToString("done");
        }
    }

    @Test
    void anUpstreamThatDoesNotChooseH2IsAConnectFailure() throws Exception {
        X509Bundle cert = upstreamCert;
        try (TestUpstream http1Only = TestUpstream.startTls("h1", TestUpstream.echo("h1"), SslContextBuilder
                .forServer(cert.getKeyPair().getPrivate(), cert.getCertificatePath()).build())) {
            proxy = proxyTo(http1Only.address());
            HttpResponse<String> r = proxy.get("/x");
            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(r.headers().firstValue("x-bulwark-error")).hasValue("upstream_connect_failure");
            assertThat(r.body()).contains("h2");
            assertThat(http1Only.received()).isEmpty();
        }
    }
}
