package io.bulwark.proxy.tls;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How {@code auto | openssl | jdk} resolves, here and on a machine where OpenSSL cannot load. */
class TlsContextsTest {

    private static final OpenSslSupport MISSING = OpenSslSupport.unavailable("no native library in this test");

    @TempDir
    Path dir;

    Path cert;
    Path key;

    @BeforeEach
    void certificate() throws Exception {
        X509Bundle self = new CertificateBuilder().subject("CN=localhost").setIsCertificateAuthority(true).ecp256()
                .buildSelfSigned();
        cert = Files.writeString(dir.resolve("cert.pem"), self.getCertificatePathPEM());
        key = Files.writeString(dir.resolve("key.pem"), self.getPrivateKeyPEM());
    }

    private final java.util.List<TlsContexts> opened = new java.util.ArrayList<>();

    /** The native contexts are reference-counted: every test releases what it built. */
    private TlsContexts closeLater(TlsContexts contexts) {
        opened.add(contexts);
        return contexts;
    }

    @org.junit.jupiter.api.AfterEach
    void release() {
        opened.forEach(TlsContexts::close);
    }

    private BulwarkConfig config(String listenerProvider, String clusterProvider) throws Exception {
        return ConfigLoader.parse("""
                bulwark {
                  listener { port = 8443, tls { cert-file = "%s", key-file = "%s", provider = %s } }
                  clusters { secure { endpoints = [ "127.0.0.1:9443" ], tls = true, tls-provider = %s } }
                  routes = [ { cluster = secure } ]
                }
                """.formatted(cert, key, listenerProvider, clusterProvider));
    }

    @Test
    void autoIsOpensslWhereItLoadsAndJdkWhereItDoesNot() throws Exception {
        TlsContexts here = closeLater(new TlsContexts());
        assertThat(here.openSsl().available()).as("this build's tests run where BoringSSL loads").isTrue();
        here.prepare(config("auto", "auto"));
        TlsContexts.Engines engines = here.engines(config("auto", "auto"));
        assertThat(engines.listener()).contains(TlsEngine.OPENSSL);
        assertThat(engines.clusters()).containsEntry("secure", TlsEngine.OPENSSL);
        assertThat(engines.describe()).startsWith("TLS engine: listener openssl (BoringSSL), upstreams openssl");

        TlsContexts without = closeLater(new TlsContexts(MISSING));
        without.prepare(config("auto", "auto"));
        engines = without.engines(config("auto", "auto"));
        assertThat(engines.listener()).contains(TlsEngine.JDK);
        assertThat(engines.clusters()).containsEntry("secure", TlsEngine.JDK);
        assertThat(engines.describe())
                .isEqualTo("TLS engine: listener jdk, upstreams jdk (OpenSSL unavailable: no native library in this test)");
    }

    @Test
    void aConfigWithoutTlsNeverAsksWhetherOpensslLoads() throws Exception {
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        TlsContexts contexts = closeLater(new TlsContexts(() -> {
            asked.incrementAndGet();
            return MISSING;
        }));
        BulwarkConfig plain = ConfigLoader.parse("""
                bulwark {
                  clusters { app { endpoints = [ "127.0.0.1:9001" ] } }
                  routes = [ { cluster = app } ]
                }
                """);
        contexts.prepare(plain);
        contexts.rotateTicketKeys();
        assertThat(contexts.describe(plain)).isEqualTo("TLS engine: listener none (plain HTTP)");
        assertThat(asked).as("start-up without TLS loads no BoringSSL").hasValue(0);

        assertThat(contexts.describe(config("auto", "jdk")))
                .isEqualTo("TLS engine: listener jdk, upstreams jdk (OpenSSL unavailable: no native library in this test)");
        contexts.prepare(config("auto", "auto"));
        assertThat(contexts.openSsl().available()).isFalse();
        assertThat(asked).as("asked once, then remembered").hasValue(1);
    }

    @Test
    void jdkIsJdkEvenWhereOpensslLoads() throws Exception {
        TlsContexts.Engines engines = closeLater(new TlsContexts()).engines(config("jdk", "openssl"));
        assertThat(engines.listener()).contains(TlsEngine.JDK);
        assertThat(engines.describe()).startsWith("TLS engine: listener jdk, upstreams openssl (BoringSSL)");
    }

    @Test
    void forcedOpensslWhereItCannotLoadNamesTheKeyAndTheReason() throws Exception {
        TlsContexts without = closeLater(new TlsContexts(MISSING));
        assertThatThrownBy(() -> without.prepare(config("openssl", "jdk")))
                .isInstanceOfSatisfying(TlsConfigException.class, e -> {
                    assertThat(e.path()).isEqualTo("bulwark.listener.tls.provider");
                    assertThat(e.getMessage()).isEqualTo("bulwark.listener.tls.provider: openssl (expected: auto or "
                            + "jdk on this machine: the OpenSSL engine cannot load: no native library in this test)");
                });
        assertThatThrownBy(() -> without.prepare(config("jdk", "openssl")))
                .isInstanceOfSatisfying(TlsConfigException.class,
                        e -> assertThat(e.path()).isEqualTo("bulwark.clusters.secure.tls-provider"));
    }

    @Test
    void aKeyThatDoesNotMatchItsFormatIsAConfigErrorOnTheListenerBlock() throws Exception {
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> closeLater(new TlsContexts()).prepare(config("auto", "auto")))
                .isInstanceOfSatisfying(TlsConfigException.class,
                        e -> assertThat(e.path()).isEqualTo("bulwark.listener.tls"));
    }
}
