package io.bulwark.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bulwark.config.OutlierDetectionConfig.Readmit;
import io.bulwark.config.RetryConfig.RetryOn;
import io.bulwark.config.RouteMatch.PathMatch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading valid configs: every key of the contract's example, and the defaults of a minimal one. */
class ConfigLoaderTest {

    static final String MINIMAL = """
            bulwark {
              listener { port = 8080 }
              clusters { users { endpoints = [ "127.0.0.1:9001" ] } }
              routes = [ { cluster = users } ]
            }
            """;

    static String resource(String name) throws IOException {
        try (InputStream in = ConfigLoaderTest.class.getResourceAsStream("/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static BulwarkConfig full() throws Exception {
        return ConfigLoader.parse(resource("full.conf"), Map.of("BULWARK_ADMIN_TOKEN", "s3cret"));
    }

    @Test
    void fullConfigSetsEveryTopLevelKey() throws Exception {
        BulwarkConfig cfg = full();

        assertThat(cfg.listener()).isEqualTo(new ListenerConfig(
                "0.0.0.0", 8081, 4096, 32 * 1024, 20L * 1024 * 1024, Duration.ofSeconds(5), Duration.ofSeconds(90),
                10_000, Duration.ofSeconds(30)));
        assertThat(cfg.admin().host()).isEqualTo("127.0.0.1");
        assertThat(cfg.admin().port()).isEqualTo(9902);
        assertThat(cfg.admin().token()).contains("s3cret");
        assertThat(cfg.admin().stateFile()).contains(Path.of("/var/lib/bulwark/state.json"));
        assertThat(cfg.shutdown().drainTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(cfg.watchConfig()).isTrue();
        assertThat(cfg.accessLog().enabled()).isFalse();
        assertThat(cfg.clusters()).containsOnlyKeys("users", "users-v2");
        assertThat(cfg.clusters().keySet()).containsExactly("users", "users-v2");
    }

    @Test
    void listenerTlsProviderDefaultsToAutoAndTakesOpensslOrJdk(@TempDir Path dir) throws Exception {
        Path pem = Files.writeString(dir.resolve("listener.pem"), "read only when the proxy starts");
        String tls = "bulwark.listener.tls { cert-file = \"" + pem + "\", key-file = \"" + pem + "\"%s }\n";
        assertThat(ConfigLoader.parse(MINIMAL + tls.formatted("")).listener().tls())
                .contains(new ServerTls(pem, pem, TlsProvider.AUTO));
        assertThat(ConfigLoader.parse(MINIMAL + tls.formatted(", provider = openssl")).listener().tls())
                .contains(new ServerTls(pem, pem, TlsProvider.OPENSSL));
        BulwarkConfig jdk = ConfigLoader.parse(MINIMAL + tls.formatted(", provider = jdk"));
        assertThat(jdk.listener().tls()).contains(new ServerTls(pem, pem, TlsProvider.JDK));
        assertThat(ConfigLoader.parse(ConfigLoader.toJson(jdk, false))).isEqualTo(jdk);
    }

    @Test
    void fullConfigSetsEveryClusterKey() throws Exception {
        ClusterConfig users = full().cluster("users").orElseThrow();

        assertThat(users.name()).isEqualTo("users");
        assertThat(users.endpoints()).containsExactly(
                new EndpointConfig("127.0.0.1", 9001, 1),
                new EndpointConfig("::1", 9002, 1),
                new EndpointConfig("users-3.internal", 9003, 2));
        assertThat(users.endpoints().get(1).address()).isEqualTo("[::1]:9002");
        assertThat(users.dnsRefresh()).isEqualTo(Duration.ofSeconds(45));
        assertThat(users.tls()).isTrue();
        assertThat(users.tlsOptions().provider()).isEqualTo(TlsProvider.JDK);
        assertThat(users.loadBalancer()).isEqualTo(LoadBalancerKind.RING_HASH);
        assertThat(users.hashKey()).contains(new HashKey(HashKey.Source.HEADER, "x-user-id"));
        assertThat(users.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(users.pool()).isEqualTo(new PoolConfig(128, Duration.ofSeconds(40)));
        assertThat(users.limits()).isEqualTo(new LimitsConfig(512, 256, 4,
                Optional.of(new AdaptiveLimitConfig(2, 300, 20))));
        assertThat(users.healthCheck()).contains(new HealthCheckConfig(
                "/healthz", Duration.ofSeconds(3), Duration.ofMillis(500), 4, 3, Duration.ofMillis(250)));
        assertThat(users.outlierDetection()).isEqualTo(new OutlierDetectionConfig(
                6, 7,
                new OutlierDetectionConfig.SuccessRateConfig(4, 90, 2.5),
                new OutlierDetectionConfig.FailurePercentageConfig(80, 3, 40),
                Duration.ofSeconds(8), Duration.ofSeconds(20), Duration.ofSeconds(200), 30, Readmit.PROBE,
                Duration.ofSeconds(45), Optional.of(new OutlierDetectionConfig.LatencyConfig(
                        Duration.ofMillis(250), 2.5, Duration.ofSeconds(5), 30, 3))));
        assertThat(users.panicThreshold()).isEqualTo(40.0);
        assertThat(users.slowStart()).isEqualTo(Duration.ofSeconds(10));
        assertThat(users.circuitBreaker()).isEqualTo(new CircuitBreakerConfig(
                false, 60, Duration.ofSeconds(3), 90, CircuitBreakerConfig.WindowType.COUNT, Duration.ofSeconds(20), 50, 10, Duration.ofSeconds(15), 2));
    }

    @Test
    void fullConfigSetsEveryRouteKey() throws Exception {
        List<RouteConfig> routes = full().routes();
        assertThat(routes).extracting(RouteConfig::name).containsExactly("users-api", "route-1");

        RouteConfig api = routes.get(0);
        assertThat(api.match()).isEqualTo(new RouteMatch(
                new PathMatch(PathMatch.Kind.PREFIX, "/users"), Optional.of("api.example.com"),
                Set.of("GET", "POST"), Map.of("x-canary", "true")));
        assertThat(api.clusters()).containsExactly(new RouteConfig.WeightedCluster("users", 1));
        assertThat(api.prefixRewrite()).contains("/");
        assertThat(api.requestHeaders()).isEqualTo(new RouteConfig.HeaderRewrite(Map.of("x-from", "bulwark"), List.of("x-debug")));
        assertThat(api.timeout()).isEqualTo(Duration.ofSeconds(12));
        assertThat(api.retry()).isEqualTo(new RetryConfig(
                3, Set.of(RetryOn.values()), Set.of(503, 429), Duration.ofSeconds(2),
                new RetryConfig.Backoff(Duration.ofMillis(50), Duration.ofMillis(500)),
                25, 5, true, 128 * 1024));
        assertThat(api.rateLimit()).contains(new RateLimitConfig(
                100, 150, new RateLimitConfig.Key(RateLimitConfig.Key.Kind.HEADER, "x-api-key")));
        assertThat(api.fault()).isEqualTo(new FaultConfig(
                new FaultConfig.Delay(5, Duration.ofMillis(100)), new FaultConfig.Abort(1.5, 502)));

        RouteConfig split = routes.get(1);
        assertThat(split.match().path()).isEqualTo(new PathMatch(PathMatch.Kind.REGEX, "^/v2/.*$"));
        assertThat(split.match().host()).contains("*.example.com");
        assertThat(split.clusters()).containsExactly(
                new RouteConfig.WeightedCluster("users", 90), new RouteConfig.WeightedCluster("users-v2", 10));
    }

    @Test
    void minimalConfigGetsEveryDefault() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse(MINIMAL, Map.of());

        assertThat(cfg.listener()).isEqualTo(new ListenerConfig(
                "0.0.0.0", 8080, 8 * 1024, 16 * 1024, 10L * 1024 * 1024, Duration.ofSeconds(10), Duration.ofSeconds(60),
                10_000, Duration.ofSeconds(30)));
        assertThat(cfg.admin()).isEqualTo(new AdminConfig("127.0.0.1", 9901, Optional.empty(), Optional.empty()));
        assertThat(cfg.shutdown().drainTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(cfg.accessLog()).isEqualTo(new AccessLogConfig(true));
        assertThat(cfg.watchConfig()).isFalse();

        ClusterConfig users = cfg.cluster("users").orElseThrow();
        assertThat(users.endpoints()).containsExactly(new EndpointConfig("127.0.0.1", 9001, 1));
        assertThat(users.dnsRefresh()).isEqualTo(Duration.ofSeconds(30));
        assertThat(users.tls()).isFalse();
        assertThat(users.tlsOptions()).isEqualTo(UpstreamTls.DEFAULT);
        assertThat(users.loadBalancer()).isEqualTo(LoadBalancerKind.ROUND_ROBIN);
        assertThat(users.hashKey()).isEmpty();
        assertThat(users.connectTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(users.pool()).isEqualTo(new PoolConfig(256, Duration.ofSeconds(30)));
        assertThat(users.limits()).isEqualTo(new LimitsConfig(1024, 1024, 3));
        assertThat(users.healthCheck()).isEmpty();
        assertThat(users.outlierDetection()).isEqualTo(new OutlierDetectionConfig(
                5, 5,
                new OutlierDetectionConfig.SuccessRateConfig(5, 100, 1.9),
                new OutlierDetectionConfig.FailurePercentageConfig(85, 5, 50),
                Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(300), 10, Readmit.TIMER,
                Duration.ofSeconds(60), Optional.empty()));
        assertThat(users.panicThreshold()).isEqualTo(50.0);
        assertThat(users.slowStart()).isZero();
        assertThat(users.circuitBreaker()).isEqualTo(new CircuitBreakerConfig(
                true, 50, Duration.ofSeconds(5), 100, CircuitBreakerConfig.WindowType.TIME, Duration.ofSeconds(10), 100, 20, Duration.ofSeconds(10), 5));

        RouteConfig route = cfg.routes().get(0);
        assertThat(route.name()).isEqualTo("route-0");
        assertThat(route.match()).isEqualTo(new RouteMatch(
                new PathMatch(PathMatch.Kind.PREFIX, "/"), Optional.empty(), Set.of(), Map.of()));
        assertThat(route.clusters()).containsExactly(new RouteConfig.WeightedCluster("users", 1));
        assertThat(route.prefixRewrite()).isEmpty();
        assertThat(route.requestHeaders()).isEqualTo(RouteConfig.HeaderRewrite.NONE);
        assertThat(route.timeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(route.retry()).isEqualTo(new RetryConfig(
                2, Set.of(RetryOn.CONNECT_FAILURE, RetryOn.RESET, RetryOn.GATEWAY_ERROR), Set.of(503), Duration.ZERO,
                new RetryConfig.Backoff(Duration.ofMillis(25), Duration.ofMillis(250)),
                20, 3, false, 64 * 1024));
        assertThat(route.rateLimit()).isEmpty();
        assertThat(route.fault()).isEqualTo(FaultConfig.NONE);
        assertThat(route.fault().active()).isFalse();
    }

    @Test
    void http2IsOnByDefaultWithTheContractsLimits() throws Exception {
        assertThat(ConfigLoader.parse(MINIMAL, Map.of()).listener().http2())
                .isEqualTo(new Http2Config(true, 128, 64 * 1024, 16 * 1024, 600));
    }

    @Test
    void http2KeysAreRead() throws Exception {
        String hocon = MINIMAL.replace("listener { port = 8080 }", """
                listener { port = 8080, http2 { enabled = false, max-concurrent-streams = 10,
                  initial-window-size = 1MiB, max-header-list-size = 8KiB, max-resets-per-minute = 50 } }""");
        assertThat(ConfigLoader.parse(hocon, Map.of()).listener().http2())
                .isEqualTo(new Http2Config(false, 10, 1024 * 1024, 8 * 1024, 50));
    }

    @Test
    void optionalBlocksGetTheirOwnDefaultsWhenPresent() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse("""
                bulwark {
                  clusters { users { endpoints = [ "h:1" ], health-check {}, outlier-detection { readmit = probe } } }
                  routes = [ { cluster = users, rate-limit { requests-per-second = 2.5 }, fault { abort { percent = 10 } } } ]
                }
                """, Map.of());
        ClusterConfig users = cfg.cluster("users").orElseThrow();
        assertThat(users.healthCheck()).contains(new HealthCheckConfig(
                "/health", Duration.ofSeconds(5), Duration.ofSeconds(1), 3, 2));
        assertThat(users.outlierDetection().readmit()).isEqualTo(Readmit.PROBE);
        assertThat(users.outlierDetection().consecutive5xx()).isEqualTo(5);
        RouteConfig route = cfg.routes().get(0);
        // Without a burst, one second's worth of requests, rounded up.
        assertThat(route.rateLimit()).contains(new RateLimitConfig(
                2.5, 3, new RateLimitConfig.Key(RateLimitConfig.Key.Kind.ROUTE, "")));
        assertThat(route.fault()).isEqualTo(new FaultConfig(
                new FaultConfig.Delay(0, Duration.ZERO), new FaultConfig.Abort(10, 503)));
        assertThat(route.fault().active()).isTrue();
    }

    @Test
    void grpcHealthChecksAndGrpcRetryConditionsAreRead() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse("""
                bulwark {
                  listener { port = 8080 }
                  clusters {
                    whole { endpoints = [ "127.0.0.1:9001" ], health-check { grpc-service = "" } }
                    named { endpoints = [ "127.0.0.1:9002" ], health-check { grpc-service = "pkg.Users" } }
                    http { endpoints = [ "127.0.0.1:9003" ], health-check { } }
                  }
                  routes = [ { cluster = whole, retry { retry-on = [ unavailable, resource-exhausted, cancelled,
                                                                     deadline-exceeded, reset ] } } ]
                }
                """, Map.of());
        assertThat(cfg.cluster("whole").orElseThrow().healthCheck().orElseThrow().grpcService()).contains("");
        assertThat(cfg.cluster("named").orElseThrow().healthCheck().orElseThrow().grpcService()).contains("pkg.Users");
        assertThat(cfg.cluster("http").orElseThrow().healthCheck().orElseThrow().grpcService()).isEmpty();
        assertThat(cfg.routes().get(0).retry().retryOn()).containsExactlyInAnyOrder(RetryConfig.RetryOn.UNAVAILABLE,
                RetryConfig.RetryOn.RESOURCE_EXHAUSTED, RetryConfig.RetryOn.CANCELLED,
                RetryConfig.RetryOn.DEADLINE_EXCEEDED, RetryConfig.RetryOn.RESET);
        assertThat(ConfigLoader.parse(ConfigLoader.toJson(cfg, false))).isEqualTo(cfg);
    }

    @Test
    void otherBalancersNeedNoHashKeyAndMayCarryOne() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse("""
                bulwark {
                  clusters {
                    a { endpoints = [ "h:1" ], load-balancer = ewma }
                    b { endpoints = [ "h:1" ], load-balancer = random, hash-key = client-ip }
                    c { endpoints = [ "h:1" ], load-balancer = ring-hash, hash-key = "cookie:Session" }
                  }
                  routes = [ { cluster = a } ]
                }
                """, Map.of());
        assertThat(cfg.cluster("a").orElseThrow().hashKey()).isEmpty();
        assertThat(cfg.cluster("b").orElseThrow().hashKey()).contains(new HashKey(HashKey.Source.CLIENT_IP, ""));
        // Cookie names are case-sensitive, unlike header names.
        assertThat(cfg.cluster("c").orElseThrow().hashKey()).contains(new HashKey(HashKey.Source.COOKIE, "Session"));
    }

    @Test
    void clustersKeepFileOrder() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse("""
                bulwark {
                  clusters {
                    zeta { endpoints = [ "h:1" ] }
                    alpha { endpoints = [ "h:2" ] }
                    mid { endpoints = [ "h:3" ] }
                  }
                  routes = [ { cluster = alpha } ]
                }
                """, Map.of());
        assertThat(cfg.clusters().keySet()).containsExactly("zeta", "alpha", "mid");
    }

    @Test
    void adminTokenFromEnvironmentIsAbsentWhenTheVariableIsNotSet() throws Exception {
        String hocon = MINIMAL + "bulwark.admin.token = ${?BULWARK_ADMIN_TOKEN}\n";

        assertThat(ConfigLoader.parse(hocon, Map.of()).admin().token()).isEmpty();
        assertThat(ConfigLoader.parse(hocon, Map.of("BULWARK_ADMIN_TOKEN", "abc")).admin().token()).contains("abc");
    }

    @Test
    void nonLoopbackAdminIsFineWithATokenFromTheEnvironment() throws Exception {
        String hocon = MINIMAL + "bulwark.admin { host = \"0.0.0.0\", token = ${?BULWARK_ADMIN_TOKEN} }\n";

        assertThat(ConfigLoader.parse(hocon, Map.of("BULWARK_ADMIN_TOKEN", "abc")).admin().host()).isEqualTo("0.0.0.0");
        assertThatThrownBy(() -> ConfigLoader.parse(hocon, Map.of()))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::path).containsExactly("bulwark.admin.token"));
    }

    @Test
    void theAdminTokenDefaultsToTheEnvironmentVariableWhenTheFileNamesNone() throws Exception {
        Map<String, String> env = Map.of("BULWARK_ADMIN_TOKEN", "from-env");

        assertThat(ConfigLoader.parse(MINIMAL, env).admin().token()).contains("from-env");
        assertThat(ConfigLoader.parse(MINIMAL, Map.of()).admin().token()).isEmpty();
        assertThat(ConfigLoader.parse(MINIMAL + "bulwark.admin.token = in-file\n", env).admin().token())
                .contains("in-file");
        // The default satisfies the rule that a non-loopback admin API needs a token...
        String exposed = MINIMAL + "bulwark.admin.host = \"0.0.0.0\"\n";
        assertThat(ConfigLoader.parse(exposed, env).admin().token()).contains("from-env");
        // ...and an unusable value from the environment is named by its config path, never echoed.
        assertThatThrownBy(() -> ConfigLoader.parse(MINIMAL, Map.of("BULWARK_ADMIN_TOKEN", "has space")))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> {
                    assertThat(e.problems()).extracting(ConfigProblem::path).containsExactly("bulwark.admin.token");
                    assertThat(e.getMessage()).doesNotContain("has space");
                });
    }

    @Test
    void theDefaultsTheContractShowsForRateLimitHedgeAndFallbackAreBuiltIn() throws Exception {
        RouteConfig route = ConfigLoader.parse(MINIMAL.replace("routes = [ { cluster = users } ]",
                "routes = [ { cluster = users, rate-limit { key = client-ip }, hedge { }, fallback { } } ]"), Map.of())
                .routes().get(0);

        assertThat(route.rateLimit()).hasValueSatisfying(rl -> {
            assertThat(rl.requestsPerSecond()).isEqualTo(100);
            assertThat(rl.burst()).isEqualTo(100);
            assertThat(rl.key().kind()).isEqualTo(RateLimitConfig.Key.Kind.CLIENT_IP);
        });
        assertThat(route.hedge()).contains(new HedgeConfig(java.util.Optional.of(Duration.ofMillis(50)), 1));
        assertThat(route.fallback()).hasValueSatisfying(f -> {
            assertThat(f.staleIfError()).contains(Duration.ofMinutes(5));
            assertThat(f.fixed()).isEmpty();
        });

        // A fixed reply alone keeps no stale copies; both together do.
        RouteConfig fixed = ConfigLoader.parse(MINIMAL.replace("routes = [ { cluster = users } ]",
                "routes = [ { cluster = users, fallback { status = 503 }, hedge { delay = p95 } } ]"), Map.of())
                .routes().get(0);
        assertThat(fixed.fallback().orElseThrow().staleIfError()).isEmpty();
        assertThat(fixed.fallback().orElseThrow().fixed()).isPresent();
        assertThat(fixed.hedge().orElseThrow().adaptive()).isTrue();
    }

    @Test
    void anAdaptiveLimitTakesItsDefaultsAndItsBoundsAreChecked() throws Exception {
        String on = MINIMAL.replace("endpoints = [ \"127.0.0.1:9001\" ] }",
                "endpoints = [ \"127.0.0.1:9001\" ], limits { adaptive { max-limit = 200 } } }");
        LimitsConfig limits = ConfigLoader.parse(on, Map.of()).cluster("users").orElseThrow().limits();
        assertThat(limits.adaptive()).contains(new AdaptiveLimitConfig(8, 200, 64));
        assertThat(limits.maxConcurrentRequests()).isEqualTo(1024);
        assertThat(ConfigLoader.parse(MINIMAL, Map.of()).cluster("users").orElseThrow().limits().adaptive()).isEmpty();

        String inverted = MINIMAL.replace("endpoints = [ \"127.0.0.1:9001\" ] }",
                "endpoints = [ \"127.0.0.1:9001\" ], limits { adaptive { min-limit = 50, max-limit = 10, typo = 1 } } }");
        assertThatThrownBy(() -> ConfigLoader.parse(inverted, Map.of()))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("bulwark.clusters.users.limits.adaptive.min-limit",
                                "bulwark.clusters.users.limits.adaptive.typo"));
        String outside = MINIMAL.replace("endpoints = [ \"127.0.0.1:9001\" ] }",
                "endpoints = [ \"127.0.0.1:9001\" ], limits { adaptive { min-limit = 10, max-limit = 20, initial-limit = 64 } } }");
        assertThatThrownBy(() -> ConfigLoader.parse(outside, Map.of()))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> assertThat(e.problems())
                        .singleElement().satisfies(p -> {
                            assertThat(p.path()).isEqualTo("bulwark.clusters.users.limits.adaptive.initial-limit");
                            assertThat(p.message()).contains("between min-limit and max-limit, 10..20");
                        }));
    }

    @Test
    void accessLogCanBeSwitchedOffAndItsBlockIsChecked() throws Exception {
        String off = MINIMAL.replace("listener {", "access-log { enabled = false }\n  listener {");
        assertThat(ConfigLoader.parse(off, Map.of()).accessLog().enabled()).isFalse();

        String bad = MINIMAL.replace("listener {", "access-log { enabled = maybe, buffer = 64k }\n  listener {");
        assertThatThrownBy(() -> ConfigLoader.parse(bad, Map.of()))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("bulwark.access-log.enabled", "bulwark.access-log.buffer"));
    }

    @Test
    void parseWithoutExplicitEnvironmentUsesTheProcessEnvironment() throws Exception {
        // PATH is set in every test JVM; a substitution from it proves the real environment is consulted.
        String path = System.getenv("PATH");
        BulwarkConfig cfg = ConfigLoader.parse(MINIMAL + "bulwark.admin.state-file = ${?PATH}\n");
        assertThat(cfg.admin().stateFile().map(Path::toString)).isEqualTo(Optional.ofNullable(path));
    }

    @Test
    void loopbackAdminHostsNeedNoToken() throws Exception {
        for (String host : List.of("127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "0:0:0:0:0:0:0:1")) {
            BulwarkConfig cfg = ConfigLoader.parse(MINIMAL + "bulwark.admin.host = \"" + host + "\"\n", Map.of());
            assertThat(cfg.admin().token()).as(host).isEmpty();
        }
    }

    @Test
    void loadsAFileAndFollowsRelativeIncludes(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("clusters.conf"), "bulwark.clusters { users { endpoints = [ \"127.0.0.1:9001\" ] } }\n");
        Path main = dir.resolve("bulwark.conf");
        Files.writeString(main, """
                include "clusters.conf"
                bulwark {
                  listener.port = 9090
                  routes = [ { cluster = users } ]
                }
                """);

        BulwarkConfig cfg = ConfigLoader.load(main);

        assertThat(cfg.listener().port()).isEqualTo(9090);
        assertThat(cfg.clusters()).containsOnlyKeys("users");
    }

    @Test
    void missingFileIsAProblemAtTheFilePath(@TempDir Path dir) {
        Path missing = dir.resolve("nope.conf");
        assertThatThrownBy(() -> ConfigLoader.load(missing))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> assertThat(e.problems())
                        .containsExactly(new ConfigProblem(missing.toString(), "config file not found")));
    }

    @Test
    void directoryIsAProblemAtTheFilePath(@TempDir Path dir) {
        assertThatThrownBy(() -> ConfigLoader.load(dir))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> assertThat(e.problems())
                        .singleElement().satisfies(p -> {
                            assertThat(p.path()).isEqualTo(dir.toString());
                            assertThat(p.message()).contains("is a directory");
                        }));
    }

    @Test
    void hoconSyntaxErrorNamesTheFileAndLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("broken.conf");
        Files.writeString(file, "bulwark {\n  listener { port = 8080 \n");

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> assertThat(e.problems())
                        .singleElement().satisfies(p -> {
                            assertThat(p.path()).isEqualTo(file.toString());
                            assertThat(p.message()).startsWith("line ");
                            assertThat(p.message()).doesNotContain("Exception", "\tat ");
                        }));
    }

    @Test
    void unresolvableSubstitutionIsAProblemNotACrash() {
        assertThatThrownBy(() -> ConfigLoader.parse(MINIMAL + "bulwark.admin.token = ${NOT_SET_ANYWHERE}\n", Map.of()))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> assertThat(e.problems())
                        .singleElement().satisfies(p -> {
                            assertThat(p.path()).isEqualTo(ConfigLoader.STRING_SOURCE);
                            assertThat(p.message()).contains("${NOT_SET_ANYWHERE}");
                        }));
    }

    @Test
    void substitutionsMayReferToTheFileItself() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse(MINIMAL + "bulwark.admin.port = ${bulwark.listener.port}\n", Map.of());
        assertThat(cfg.admin().port()).isEqualTo(8080);
    }

    @Test
    void exceptionMessageHasOneLinePerProblem() {
        assertThatThrownBy(() -> ConfigLoader.parse(MINIMAL + "bulwark.listener { port = 0, host = \"a b\" }\n", Map.of()))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessage("bulwark.listener.host: \"a b\" (expected: an IP address or host name, like 0.0.0.0 or ::1)\n"
                        + "bulwark.listener.port: 0 (expected: an integer 1..65535)");
    }
}
