package io.bulwark.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Strict validation: one bad setting per case, each reported at its exact path with a message
 * naming the value and what was expected, and nothing else reported alongside it.
 */
class ConfigValidationTest {

    /** Valid on its own; each case appends HOCON that overrides or adds one thing. */
    private static final String BASE = """
            bulwark {
              listener { port = 8080 }
              clusters { users { endpoints = [ "127.0.0.1:9001" ] } }
              routes = [ { cluster = users } ]
            }
            """;

    static List<ConfigProblem> problemsOf(String hocon) {
        ConfigValidationException e = catchThrowableOfType(ConfigValidationException.class,
                () -> ConfigLoader.parse(hocon, Map.of()));
        assertThat(e).as("expected the config to be rejected:\n" + hocon).isNotNull();
        return e.problems();
    }

    /** A case that appends {@code override} to the valid base config. */
    private static Arguments bad(String override, String path, String messageFragment) {
        return arguments(BASE + override + "\n", path, messageFragment);
    }

    /** A case that is a whole config of its own. */
    private static Arguments whole(String hocon, String path, String messageFragment) {
        return arguments(hocon, path, messageFragment);
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                // root and structure
                whole("# nothing but a comment\n", "bulwark", "missing (expected: the root object bulwark"),
                whole("bulwark = 5", "bulwark", "5 (expected: the root object bulwark"),
                bad("bulwrak { }", "bulwrak", "unknown key (did you mean \"bulwark\"?)"),
                bad("bulwark.listners { }", "bulwark.listners", "unknown key (did you mean \"listener\"?)"),
                whole("bulwark { routes = [ { cluster = users } ] }", "bulwark.clusters", "missing (expected: at least one cluster"),
                whole("bulwark { clusters {}, routes = [ { cluster = users } ] }", "bulwark.clusters", "empty (expected: at least one cluster)"),
                whole("bulwark { clusters { users { endpoints = [\"h:1\"] } } }", "bulwark.routes", "missing (expected: a list of at least one route"),
                bad("bulwark.routes = []", "bulwark.routes", "empty list (expected: at least one route)"),
                bad("bulwark.routes = { cluster = users }", "bulwark.routes", "an object (expected: a list of route objects)"),
                bad("bulwark.routes = [ users ]", "bulwark.routes[0]", "\"users\" (expected: a route object"),
                bad("bulwark.listener = 5", "bulwark.listener", "5 (expected: an object { ... })"),
                bad("bulwark.reload { auto-rollbak = true }", "bulwark.reload.auto-rollbak",
                        "unknown key (did you mean \"auto-rollback\"?)"),
                bad("bulwark.reload { bake-time = 0s }", "bulwark.reload.bake-time", "(expected: a duration > 0"),
                bad("bulwark.reload { max-p90-increase = 0.5 }", "bulwark.reload.max-p90-increase",
                        "0.5 (expected: a factor > 1, like 2.0)"),
                bad("bulwark.reload { min-requests = 0 }", "bulwark.reload.min-requests",
                        "0 (expected: an integer 1..1000000)"),
                bad("bulwark.clusters.users = 5", "bulwark.clusters.users", "5 (expected: an object { ... })"),
                // listener
                bad("bulwark.listener.prot = 8080", "bulwark.listener.prot", "unknown key (did you mean \"port\"?)"),
                bad("bulwark.listener.port = 0", "bulwark.listener.port", "0 (expected: an integer 1..65535)"),
                bad("bulwark.listener.port = 65536", "bulwark.listener.port", "65536 (expected: an integer 1..65535)"),
                bad("bulwark.listener.port = http", "bulwark.listener.port", "\"http\" (expected: an integer 1..65535)"),
                bad("bulwark.listener.port = 80.5", "bulwark.listener.port", "80.5 (expected: an integer 1..65535)"),
                bad("bulwark.listener.port = [80]", "bulwark.listener.port", "a list (expected: an integer 1..65535)"),
                bad("bulwark.listener.host = \"not a host!\"", "bulwark.listener.host", "\"not a host!\" (expected: an IP address or host name"),
                bad("bulwark.listener.host = \"300.1.1.1\"", "bulwark.listener.host", "\"300.1.1.1\" (expected: an IP address"),
                bad("bulwark.listener.max-initial-line-length = 100", "bulwark.listener.max-initial-line-length", "100 (expected: a size from 256 bytes to 1MiB"),
                bad("bulwark.listener.max-header-size = 2MiB", "bulwark.listener.max-header-size", "\"2MiB\" (expected: a size from 256 bytes to 1MiB"),
                bad("bulwark.listener.max-header-size = 16 parsecs", "bulwark.listener.max-header-size", "\"16 parsecs\" (expected: a size"),
                bad("bulwark.listener.max-body-size = -1", "bulwark.listener.max-body-size", "-1 (expected: a size >= 0"),
                bad("bulwark.listener.request-header-timeout = 0s", "bulwark.listener.request-header-timeout", "\"0s\" (expected: a duration > 0"),
                bad("bulwark.listener.idle-timeout = soon", "bulwark.listener.idle-timeout", "\"soon\" (expected: a duration > 0, like 250ms or 5s)"),
                bad("bulwark.listener.trust-forwarded-from = [ \"10.0.0.0/33\" ]", "bulwark.listener.trust-forwarded-from[0]", "expected: an IP address or CIDR range"),
                bad("bulwark.listener.unsafe-path-escapes = allow", "bulwark.listener.unsafe-path-escapes", "allow"),
                bad("bulwark.listener.max-connections = 0", "bulwark.listener.max-connections", "0 (expected: an integer 1..1000000)"),
                bad("bulwark.listener.tls { cert-file = \"/nonexistent/cert.pem\", key-file = \"/etc/hostname\" }",
                        "bulwark.listener.tls.cert-file", "no such readable file"),
                bad("bulwark.listener.tls { key-file = \"/etc/hostname\" }", "bulwark.listener.tls.cert-file", "missing"),
                bad("bulwark.listener.tls { cert-file = \"/etc/hostname\", key-file = \"/etc/hostname\", provider = boringssl }",
                        "bulwark.listener.tls.provider", "\"boringssl\" (expected: one of auto, openssl, jdk)"),
                bad("bulwark.listener.tls { cert-file = \"/etc/hostname\", key-file = \"/etc/hostname\", providr = jdk }",
                        "bulwark.listener.tls.providr", "unknown key (did you mean \"provider\"?)"),
                // admin, shutdown, watch-config
                bad("bulwark.admin.port = 0", "bulwark.admin.port", "0 (expected: an integer 1..65535)"),
                bad("bulwark.admin.host = \"0.0.0.0\"", "bulwark.admin.token", "required when admin.host is not loopback (admin.host is \"0.0.0.0\")"),
                bad("bulwark.admin.host = \"10.1.2.3\"", "bulwark.admin.token", "required when admin.host is not loopback"),
                bad("bulwark.admin.token = \"\"", "bulwark.admin.token", "\"\" (expected: a non-empty string"),
                bad("bulwark.admin.token = \"two words\"", "bulwark.admin.token", "<redacted> (expected: printable ASCII without spaces)"),
                bad("bulwark.admin.colour = blue", "bulwark.admin.colour", "unknown key (known keys: host, port, token, state-file)"),
                bad("bulwark.admin.state-file = \"\"", "bulwark.admin.state-file", "\"\" (expected: a file path)"),
                bad("bulwark.shutdown.drain-timeout = -1s", "bulwark.shutdown.drain-timeout", "\"-1s\" (expected: a duration >= 0"),
                bad("bulwark.watch-config = maybe", "bulwark.watch-config", "\"maybe\" (expected: true or false)"),
                // cluster basics
                bad("bulwark.clusters.\"bad name\" { endpoints = [\"h:1\"] }", "bulwark.clusters.\"bad name\"", "invalid cluster name \"bad name\""),
                bad("bulwark.clusters.users.endpoints = []", "bulwark.clusters.users.endpoints", "empty list (expected: at least one endpoint"),
                bad("bulwark.clusters.other { tls = true }", "bulwark.clusters.other.endpoints", "missing (expected: a list of at least one endpoint"),
                bad("bulwark.clusters.users.endpoints = \"h:1\"", "bulwark.clusters.users.endpoints", "\"h:1\" (expected: a list of"),
                bad("bulwark.clusters.users.endpoints = [ \"127.0.0.1\" ]", "bulwark.clusters.users.endpoints[0]", "\"127.0.0.1\" (expected: host:port"),
                bad("bulwark.clusters.users.endpoints = [ \"h:1\", \"127.0.0.1:0\" ]", "bulwark.clusters.users.endpoints[1]", "\"127.0.0.1:0\" (expected: host:port with a port 1..65535)"),
                bad("bulwark.clusters.users.endpoints = [ \"h:99999\" ]", "bulwark.clusters.users.endpoints[0]", "(expected: host:port with a port 1..65535)"),
                bad("bulwark.clusters.users.endpoints = [ \"::1:9001\" ]", "bulwark.clusters.users.endpoints[0]", "IPv6 address in brackets, like [::1]:9001"),
                bad("bulwark.clusters.users.endpoints = [ \"[::g]:80\" ]", "bulwark.clusters.users.endpoints[0]", "a valid IPv6 address"),
                bad("bulwark.clusters.users.endpoints = [ \"bad!host:80\" ]", "bulwark.clusters.users.endpoints[0]", "a valid host name or IP address"),
                bad("bulwark.clusters.users.endpoints = [ 42 ]", "bulwark.clusters.users.endpoints[0]", "42 (expected: \"host:port\" or { address"),
                bad("bulwark.clusters.users.endpoints = [ { address = \"h:1\", weight = 0 } ]", "bulwark.clusters.users.endpoints[0].weight", "0 (expected: an integer >= 1)"),
                bad("bulwark.clusters.users.endpoints = [ { address = \"h:1\", wieght = 2 } ]", "bulwark.clusters.users.endpoints[0].wieght", "unknown key (did you mean \"weight\"?)"),
                bad("bulwark.clusters.users.endpoints = [ { weight = 2 } ]", "bulwark.clusters.users.endpoints[0].address", "missing (expected: \"host:port\")"),
                bad("bulwark.clusters.users.endpoints = [ \"h:1\", \"h:2\", { address = \"H:1\" } ]", "bulwark.clusters.users.endpoints[2]", "duplicate endpoint \"H:1\" (already at bulwark.clusters.users.endpoints[0])"),
                bad("bulwark.clusters.users.load-balancer = round-robbin", "bulwark.clusters.users.load-balancer", "did you mean \"round-robin\"?"),
                bad("bulwark.clusters.users.load-balancer = fastest", "bulwark.clusters.users.load-balancer", "\"fastest\" (expected: one of round-robin, least-request, random, ewma, ring-hash)"),
                bad("bulwark.clusters.users.load-balancer = ring-hash", "bulwark.clusters.users.hash-key", "required when load-balancer is ring-hash"),
                bad("bulwark.clusters.users.hash-key = \"header:\"", "bulwark.clusters.users.hash-key", "\"header:\" (expected: header:NAME, cookie:NAME or client-ip"),
                bad("bulwark.clusters.users.hash-key = clientip", "bulwark.clusters.users.hash-key", "did you mean \"client-ip\"?"),
                bad("bulwark.clusters.users.tls = \"yes please\"", "bulwark.clusters.users.tls", "(expected: true or false)"),
                bad("bulwark.clusters.users.tls-server-name = \"api.internal\"", "bulwark.clusters.users.tls", "expected: true when tls-ca-file, tls-server-name, tls-provider, tls-cert-file or tls-key-file is set"),
                bad("bulwark.clusters.users.tls-provider = jdk", "bulwark.clusters.users.tls", "expected: true when tls-ca-file, tls-server-name, tls-provider, tls-cert-file or tls-key-file is set"),
                bad("bulwark.clusters.users { tls = true, tls-provider = opensssl }", "bulwark.clusters.users.tls-provider", "did you mean \"openssl\"?"),
                bad("bulwark.clusters.users { tls = true, tls-ca-file = \"/nonexistent/ca.pem\" }", "bulwark.clusters.users.tls-ca-file", "no such readable file"),
                bad("bulwark.clusters.users.dns-refresh = 0s", "bulwark.clusters.users.dns-refresh", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.connect-timeout = 0ms", "bulwark.clusters.users.connect-timeout", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.slow-start = -5s", "bulwark.clusters.users.slow-start", "(expected: a duration >= 0"),
                bad("bulwark.clusters.users.panic-threshold = 101", "bulwark.clusters.users.panic-threshold", "101 (expected: a number 0..100)"),
                bad("bulwark.clusters.users.pool.max-connections-per-upstream = 0", "bulwark.clusters.users.pool.max-connections-per-upstream", "0 (expected: an integer >= 1)"),
                bad("bulwark.clusters.users.pool.idle-timeout = 0s", "bulwark.clusters.users.pool.idle-timeout", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.pool.max-connections = 10", "bulwark.clusters.users.pool.max-connections", "unknown key (did you mean \"max-connections-per-upstream\"?)"),
                bad("bulwark.clusters.users.limits.max-pending-requests = 0", "bulwark.clusters.users.limits.max-pending-requests", "0 (expected: an integer >= 1)"),
                bad("bulwark.clusters.users.limit { max-concurrent-requests = 5 }", "bulwark.clusters.users.limit", "unknown key (did you mean \"limits\"?)"),
                // health check
                bad("bulwark.clusters.users.health-check.path = health", "bulwark.clusters.users.health-check.path", "\"health\" (expected: a path starting with \"/\""),
                bad("bulwark.clusters.users.health-check.interval = 0s", "bulwark.clusters.users.health-check.interval", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.health-check.timeout = -1s", "bulwark.clusters.users.health-check.timeout", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.health-check.unhealthy-threshold = 0", "bulwark.clusters.users.health-check.unhealthy-threshold", "0 (expected: an integer >= 1)"),
                bad("bulwark.clusters.users.health-check.grpc-service = [ a ]", "bulwark.clusters.users.health-check.grpc-service", "(expected: a gRPC service name, or \"\" for the whole server)"),
                bad("bulwark.clusters.users.health-check.grpc-servce = \"\"", "bulwark.clusters.users.health-check.grpc-servce", "did you mean \"grpc-service\"?"),
                bad("bulwark.clusters.users.health-check = true", "bulwark.clusters.users.health-check", "true (expected: an object { ... })"),
                // outlier detection
                bad("bulwark.clusters.users.outlier-detection.max-ejection-percent = 150", "bulwark.clusters.users.outlier-detection.max-ejection-percent", "150 (expected: a number 0..100)"),
                bad("bulwark.clusters.users.outlier-detection.consecutive-5xx = 0", "bulwark.clusters.users.outlier-detection.consecutive-5xx", "0 (expected: an integer >= 1)"),
                bad("bulwark.clusters.users.outlier-detection.failure-percentage.threshold = -1", "bulwark.clusters.users.outlier-detection.failure-percentage.threshold", "-1 (expected: a number 0..100)"),
                bad("bulwark.clusters.users.outlier-detection.success-rate.stdev-factor = 0", "bulwark.clusters.users.outlier-detection.success-rate.stdev-factor", "0 (expected: a number > 0)"),
                bad("bulwark.clusters.users.outlier-detection.sucess-rate {}", "bulwark.clusters.users.outlier-detection.sucess-rate", "unknown key (did you mean \"success-rate\"?)"),
                bad("bulwark.clusters.users.outlier-detection.interval = 0s", "bulwark.clusters.users.outlier-detection.interval", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.outlier-detection.base-ejection-time = 0s", "bulwark.clusters.users.outlier-detection.base-ejection-time", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.outlier-detection.max-ejection-time = 10s", "bulwark.clusters.users.outlier-detection.max-ejection-time", "\"10s\" (expected: a duration >= base-ejection-time, which is 30s)"),
                bad("bulwark.clusters.users.outlier-detection.readmit = probe", "bulwark.clusters.users.outlier-detection.readmit", "probe needs a health-check in this cluster"),
                bad("bulwark.clusters.users.outlier-detection.readmit = later", "bulwark.clusters.users.outlier-detection.readmit", "\"later\" (expected: one of timer, probe)"),
                bad("bulwark.clusters.users.outlier-detection.readmit-guard = -1s", "bulwark.clusters.users.outlier-detection.readmit-guard", "\"-1s\" (expected: a duration >= 0"),
                bad("bulwark.clusters.users.outlier-detection.latency { treshold = 1s }", "bulwark.clusters.users.outlier-detection.latency.treshold", "unknown key (did you mean \"threshold\"?)"),
                bad("bulwark.clusters.users.outlier-detection.latency { threshold = 0ms }", "bulwark.clusters.users.outlier-detection.latency.threshold", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.outlier-detection.latency { factor = 0 }", "bulwark.clusters.users.outlier-detection.latency.factor", "0 (expected: a number > 0)"),
                bad("bulwark.clusters.users.outlier-detection.latency { window = 1500ms }", "bulwark.clusters.users.outlier-detection.latency.window", "\"1500ms\" (expected: a whole number of seconds from 1s to 60s"),
                bad("bulwark.clusters.users.outlier-detection.latency { window = 2m }", "bulwark.clusters.users.outlier-detection.latency.window", "\"2m\" (expected: a whole number of seconds from 1s to 60s"),
                bad("bulwark.clusters.users.outlier-detection.latency { request-volume = 0 }", "bulwark.clusters.users.outlier-detection.latency.request-volume", "0 (expected: an integer >= 1)"),
                bad("bulwark.clusters.users.outlier-detection.latency = 5", "bulwark.clusters.users.outlier-detection.latency", "5 (expected: an object"),
                // circuit breaker
                bad("bulwark.clusters.users.circuit-breaker.failure-rate-threshold = 0", "bulwark.clusters.users.circuit-breaker.failure-rate-threshold", "0 (expected: a number > 0 and <= 100)"),
                bad("bulwark.clusters.users.circuit-breaker.slow-call-rate-threshold = 120", "bulwark.clusters.users.circuit-breaker.slow-call-rate-threshold", "120 (expected: a number > 0 and <= 100)"),
                bad("bulwark.clusters.users.circuit-breaker.wait-in-open = 0s", "bulwark.clusters.users.circuit-breaker.wait-in-open", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.circuit-breaker.half-open-calls = 0", "bulwark.clusters.users.circuit-breaker.half-open-calls", "0 (expected: an integer >= 1)"),
                bad("bulwark.routes = [ { cluster = users, hedge { delay = 0s } } ]", "bulwark.routes[0].hedge.delay", "(expected: a duration > 0"),
                bad("bulwark.routes = [ { cluster = users, hedge { delay = p99 } } ]", "bulwark.routes[0].hedge.delay", "(expected: a duration > 0"),
                bad("bulwark.routes = [ { cluster = users, hedge { delay = 50ms, max-extra = 4 } } ]", "bulwark.routes[0].hedge.max-extra", "4 (expected: an integer 1..3)"),
                bad("bulwark.routes = [ { cluster = users, hedge { delay = 50ms, max-extras = 1 } } ]", "bulwark.routes[0].hedge.max-extras", "did you mean"),
                bad("bulwark.clusters.users.circuit-breaker.sliding-window-duration = 1500ms", "bulwark.clusters.users.circuit-breaker.sliding-window-duration", "(expected: a whole number of seconds, e.g. 10s)"),
                bad("bulwark.clusters.users.circuit-breaker.sliding-window-duration = 0s", "bulwark.clusters.users.circuit-breaker.sliding-window-duration", "(expected: a duration > 0"),
                bad("bulwark.clusters.users.circuit-breaker.sliding-window-type = calls", "bulwark.clusters.users.circuit-breaker.sliding-window-type", "time"),
                bad("bulwark.clusters.users.circuit-breaker.enabled = perhaps", "bulwark.clusters.users.circuit-breaker.enabled", "\"perhaps\" (expected: true or false)"),
                bad("bulwark.clusters.users.circuit-breaker.enable = false", "bulwark.clusters.users.circuit-breaker.enable", "unknown key (did you mean \"enabled\"?)"),
                // route targets and names
                bad("bulwark.routes = [ { cluster = usrs } ]", "bulwark.routes[0].cluster", "unknown cluster \"usrs\" (did you mean \"users\"?)"),
                bad("bulwark.routes = [ { cluster = payments } ]", "bulwark.routes[0].cluster", "unknown cluster \"payments\" (defined clusters: users)"),
                bad("bulwark.routes = [ { name = a } ]", "bulwark.routes[0].cluster", "missing (expected: cluster = NAME, or clusters = ["),
                bad("bulwark.routes = [ { cluster = users, clusters = [ { name = users } ] } ]", "bulwark.routes[0]", "both cluster and clusters are set"),
                bad("bulwark.routes = [ { clusters = [ { name = users, weight = 9 }, { name = user, weight = 1 } ] } ]", "bulwark.routes[0].clusters[1].name", "unknown cluster \"user\" (did you mean \"users\"?)"),
                bad("bulwark.routes = [ { clusters = [ { name = users, weight = 0 } ] } ]", "bulwark.routes[0].clusters[0].weight", "0 (expected: an integer >= 1)"),
                bad("bulwark.routes = [ { clusters = [] } ]", "bulwark.routes[0].clusters", "empty list (expected: at least one { name = NAME, weight = N })"),
                bad("bulwark.routes = [ { clusters = [ { name = users }, { name = users } ] } ]", "bulwark.routes[0].clusters[1].name", "cluster \"users\" is listed twice"),
                bad("bulwark.routes = [ { name = a, cluster = users }, { name = a, cluster = users } ]", "bulwark.routes[1].name", "duplicate route name \"a\" (already used by bulwark.routes[0])"),
                bad("bulwark.routes = [ { cluster = users }, { name = route-0, cluster = users } ]", "bulwark.routes[1].name", "duplicate route name \"route-0\""),
                bad("bulwark.routes = [ { name = \"my route\", cluster = users } ]", "bulwark.routes[0].name", "\"my route\" (expected: a name of letters"),
                bad("bulwark.routes = [ { cluster = users, timeuot = 5s } ]", "bulwark.routes[0].timeuot", "unknown key (did you mean \"timeout\"?)"),
                bad("bulwark.routes = [ { cluster = users, timeout = 0s } ]", "bulwark.routes[0].timeout", "(expected: a duration > 0"),
                // match
                bad("bulwark.routes = [ { cluster = users, match { path-prefix = \"/a\", path-exact = \"/b\" } } ]", "bulwark.routes[0].match", "path-prefix and path-exact are both set (expected: at most one of path-prefix, path-exact, path-regex)"),
                bad("bulwark.routes = [ { cluster = users, match { path-prefix = users } } ]", "bulwark.routes[0].match.path-prefix", "\"users\" (expected: a path starting with \"/\""),
                bad("bulwark.routes = [ { cluster = users, match { path-exact = \"/a?b=1\" } } ]", "bulwark.routes[0].match.path-exact", "(expected: a path starting with \"/\", without spaces, '?' or '#')"),
                bad("bulwark.routes = [ { cluster = users, match { path-regex = \"(\" } } ]", "bulwark.routes[0].match.path-regex", "invalid regular expression \"(\": Unclosed group near index 1"),
                bad("bulwark.routes = [ { cluster = users, match { host = \"exa mple.com\" } } ]", "bulwark.routes[0].match.host", "\"exa mple.com\" (expected: a host name like api.example.com or a wildcard like *.example.com"),
                bad("bulwark.routes = [ { cluster = users, match { host = \"api.example.com:8080\" } } ]", "bulwark.routes[0].match.host", "without a port"),
                bad("bulwark.routes = [ { cluster = users, match { host = \"*.\" } } ]", "bulwark.routes[0].match.host", "\"*.\" (expected: a host name"),
                bad("bulwark.routes = [ { cluster = users, match { methods = [ GET, \"GE T\" ] } } ]", "bulwark.routes[0].match.methods[1]", "\"GE T\" (expected: an HTTP method like GET)"),
                bad("bulwark.routes = [ { cluster = users, match { headers { \"x y\" = a } } } ]", "bulwark.routes[0].match.headers.\"x y\"", "invalid header name \"x y\""),
                bad("bulwark.routes = [ { cluster = users, match { headers { x-a = \"a\\nb\" } } } ]", "bulwark.routes[0].match.headers.x-a", "(expected: a header value without control characters)"),
                bad("bulwark.routes = [ { cluster = users, match { path = \"/a\" } } ]", "bulwark.routes[0].match.path", "unknown key (did you mean \"path-"),
                // rewrites
                bad("bulwark.routes = [ { cluster = users, prefix-rewrite = api } ]", "bulwark.routes[0].prefix-rewrite", "\"api\" (expected: a path starting with \"/\""),
                bad("bulwark.routes = [ { cluster = users, match { path-regex = \"^/a\" }, prefix-rewrite = \"/\" } ]", "bulwark.routes[0].prefix-rewrite", "cannot be used with path-regex"),
                bad("bulwark.routes = [ { cluster = users, request-headers { add { Connection = close } } } ]", "bulwark.routes[0].request-headers.add.connection", "cannot add \"connection\""),
                bad("bulwark.routes = [ { cluster = users, request-headers { remove = [ \"x debug\" ] } } ]", "bulwark.routes[0].request-headers.remove[0]", "\"x debug\" (expected: an HTTP header name"),
                bad("bulwark.routes = [ { cluster = users, request-headers { delete = [ x ] } } ]", "bulwark.routes[0].request-headers.delete", "unknown key (known keys: add, remove)"),
                // retry
                bad("bulwark.routes = [ { cluster = users, retry { max-retries = 11 } } ]", "bulwark.routes[0].retry.max-retries", "11 (expected: an integer 0..10)"),
                bad("bulwark.routes = [ { cluster = users, retry { max-retries = -1 } } ]", "bulwark.routes[0].retry.max-retries", "-1 (expected: an integer 0..10)"),
                bad("bulwark.routes = [ { cluster = users, retry { retry-on = [ reset, 5xxx ] } } ]", "bulwark.routes[0].retry.retry-on[1]", "\"5xxx\" (expected: one of connect-failure, reset, timeout, gateway-error, 5xx, retriable-status, cancelled, deadline-exceeded, resource-exhausted, unavailable; did you mean \"5xx\"?)"),
                bad("bulwark.routes = [ { cluster = users, retry { retry-on = [ unavailble ] } } ]", "bulwark.routes[0].retry.retry-on[0]", "did you mean \"unavailable\"?"),
                bad("bulwark.routes = [ { cluster = users, retry { retriable-status = [ 503, 99 ] } } ]", "bulwark.routes[0].retry.retriable-status[1]", "99 (expected: an integer 100..599)"),
                bad("bulwark.routes = [ { cluster = users, retry { retriable-status = [ 600 ] } } ]", "bulwark.routes[0].retry.retriable-status[0]", "600 (expected: an integer 100..599)"),
                bad("bulwark.routes = [ { cluster = users, retry { retry-on = [ retriable-status ], retriable-status = [] } } ]", "bulwark.routes[0].retry.retriable-status", "empty list (expected: at least one status"),
                bad("bulwark.routes = [ { cluster = users, retry { per-try-timeout = -1ms } } ]", "bulwark.routes[0].retry.per-try-timeout", "(expected: a duration >= 0"),
                bad("bulwark.routes = [ { cluster = users, retry { backoff { base = 1s, max = 10ms } } } ]", "bulwark.routes[0].retry.backoff.max", "\"10ms\" (expected: a duration >= backoff.base, which is 1s)"),
                bad("bulwark.routes = [ { cluster = users, retry { budget-percent = 101 } } ]", "bulwark.routes[0].retry.budget-percent", "101 (expected: a number 0..100)"),
                bad("bulwark.routes = [ { cluster = users, retry { buffer-limit = -1 } } ]", "bulwark.routes[0].retry.buffer-limit", "-1 (expected: a size >= 0"),
                bad("bulwark.routes = [ { cluster = users, retry { retries = 3 } } ]", "bulwark.routes[0].retry.retries", "unknown key (did you mean \"max-retries\"?)"),
                // rate limit
                bad("bulwark.routes = [ { cluster = users, rate-limit { requests-per-second = 0 } } ]", "bulwark.routes[0].rate-limit.requests-per-second", "0 (expected: a number > 0)"),
                bad("bulwark.routes = [ { cluster = users, rate-limit { requests-per-second = 5, burst = 0 } } ]", "bulwark.routes[0].rate-limit.burst", "0 (expected: an integer >= 1)"),
                bad("bulwark.routes = [ { cluster = users, rate-limit { requests-per-second = 5, key = \"header:\" } } ]", "bulwark.routes[0].rate-limit.key", "\"header:\" (expected: route, client-ip or header:NAME"),
                bad("bulwark.routes = [ { cluster = users, rate-limit { requests-per-second = 5, key = clientip } } ]", "bulwark.routes[0].rate-limit.key", "did you mean \"client-ip\"?"),
                // fault
                bad("bulwark.routes = [ { cluster = users, fault { abort { percent = 5, status = 700 } } } ]", "bulwark.routes[0].fault.abort.status", "700 (expected: an integer 200..599)"),
                bad("bulwark.routes = [ { cluster = users, fault { abort { status = 199 } } } ]", "bulwark.routes[0].fault.abort.status", "199 (expected: an integer 200..599)"),
                bad("bulwark.routes = [ { cluster = users, fault { delay { percent = 200 } } } ]", "bulwark.routes[0].fault.delay.percent", "200 (expected: a number 0..100)"),
                bad("bulwark.routes = [ { cluster = users, fault { delay { duration = -1s } } } ]", "bulwark.routes[0].fault.delay.duration", "(expected: a duration >= 0"),
                bad("bulwark.routes = [ { cluster = users, fault { delays {} } } ]", "bulwark.routes[0].fault.delays", "unknown key (did you mean \"delay\"?)"),
                // listener.http2
                bad("bulwark.listener.http2.max-concurrent-streams = 0", "bulwark.listener.http2.max-concurrent-streams", "0 (expected: "),
                bad("bulwark.listener.http2.initial-window-size = 100", "bulwark.listener.http2.initial-window-size", "(expected: a size from 1KiB"),
                bad("bulwark.listener.http2.max-header-list-size = 10MiB", "bulwark.listener.http2.max-header-list-size", "(expected: a size from 256 bytes to 1MiB"),
                bad("bulwark.listener.http2.max-resets-per-minit = 5", "bulwark.listener.http2.max-resets-per-minit", "unknown key (did you mean \"max-resets-per-minute\"?)"),
                bad("bulwark.listener.http2.enabled = maybe", "bulwark.listener.http2.enabled", "(expected: true or false)"),
                // HOCON itself
                whole("bulwark { listener { port = 8080 }", ConfigLoader.STRING_SOURCE, "line "));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("badConfigs")
    void reportsTheProblemAtItsExactPath(String hocon, String path, String messageFragment) {
        List<ConfigProblem> problems = problemsOf(hocon);

        assertThat(problems).as("problems of:\n" + hocon).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo(path);
            assertThat(p.message()).contains(messageFragment);
        });
    }

    @Test
    void messagesReadAsTheContractShowsThem() {
        assertThat(problemsOf(BASE + "bulwark.clusters.users.outlier-detection.max-ejection-percent = 150"))
                .extracting(ConfigProblem::toString)
                .containsExactly("bulwark.clusters.users.outlier-detection.max-ejection-percent: 150 (expected: a number 0..100)");
        assertThat(problemsOf(BASE + "bulwark.routes = [ { cluster = users }, { cluster = usrs } ]"))
                .extracting(ConfigProblem::toString)
                .containsExactly("bulwark.routes[1].cluster: unknown cluster \"usrs\" (did you mean \"users\"?)");
        assertThat(problemsOf(BASE + "bulwark.listener.prot = 8080"))
                .extracting(ConfigProblem::toString)
                .containsExactly("bulwark.listener.prot: unknown key (did you mean \"port\"?)");
    }

    @Test
    void aDurationWithoutAUnitIsRejectedWithAHint() {
        // HOCON would read a bare number as milliseconds: `timeout = 15` meant 15s and silently became 15ms.
        assertThat(problemsOf(BASE + "bulwark.routes = [ { cluster = users, timeout = 15 } ]"))
                .extracting(ConfigProblem::toString)
                .containsExactly("bulwark.routes[0].timeout: 15 has no unit (write 15s or 15ms)");
        assertThat(problemsOf(BASE + "bulwark.listener.idle-timeout = \"60\""))
                .extracting(ConfigProblem::toString)
                .containsExactly("bulwark.listener.idle-timeout: \"60\" has no unit (write 60s or 60ms)");
        assertThat(problemsOf(BASE + "bulwark.clusters.users.outlier-detection.interval = 2.5"))
                .extracting(ConfigProblem::toString)
                .containsExactly("bulwark.clusters.users.outlier-detection.interval: 2.5 has no unit (write 2.5s or 2.5ms)");
    }

    @Test
    void aZeroDurationNeedsNoUnit() throws ConfigValidationException {
        BulwarkConfig config = ConfigLoader.parse(BASE
                + "bulwark.routes = [ { cluster = users, retry { per-try-timeout = 0 } } ]\n", Map.of());
        assertThat(config.routes().get(0).retry().perTryTimeout()).isZero();
    }

    @Test
    void reportsEveryProblemOfAFileAtOnce() {
        String hocon = """
                bulwark {
                  listener { prot = 8080, idle-timeout = -1s }
                  admin { host = "0.0.0.0" }
                  clusters {
                    users {
                      endpoints = [ "127.0.0.1:9001", "127.0.0.1" ]
                      outlier-detection { max-ejection-percent = 150 }
                    }
                  }
                  routes = [
                    { cluster = users }
                    { cluster = usrs, retry { max-retries = 99 } }
                  ]
                }
                """;

        assertThat(problemsOf(hocon)).extracting(ConfigProblem::path).containsExactly(
                "bulwark.listener.prot",
                "bulwark.listener.idle-timeout",
                "bulwark.admin.token",
                "bulwark.clusters.users.endpoints[1]",
                "bulwark.clusters.users.outlier-detection.max-ejection-percent",
                "bulwark.routes[1].cluster",
                "bulwark.routes[1].retry.max-retries");
    }

    @Test
    void problemOrderIsDeterministic() {
        String hocon = BASE + """
                bulwark.clusters {
                  c1 { endpoints = [], bogus-a = 1, bogus-b = 2 }
                  c2 { endpoints = [ "x" ], panic-threshold = 500 }
                  c3 { load-balancer = nope }
                }
                """;
        List<ConfigProblem> first = problemsOf(hocon);
        for (int i = 0; i < 5; i++) {
            assertThat(problemsOf(hocon)).isEqualTo(first);
        }
        assertThat(first).hasSizeGreaterThanOrEqualTo(6);
    }

    @Test
    void aBlockOfTheWrongTypeIsReportedOnceNotOncePerKeyInside() {
        assertThat(problemsOf(BASE + "bulwark.clusters.users.outlier-detection = [ 1, 2 ]"))
                .extracting(ConfigProblem::path)
                .containsExactly("bulwark.clusters.users.outlier-detection");
    }

    @Test
    void aRouteNamingABrokenClusterGetsNoSecondError() {
        assertThat(problemsOf(BASE + "bulwark.clusters.broken { endpoints = [] }\nbulwark.routes = [ { cluster = broken } ]"))
                .extracting(ConfigProblem::path)
                .containsExactly("bulwark.clusters.broken.endpoints");
    }

    @Test
    void unknownKeysAreFoundAtEveryLevel() {
        String hocon = BASE + """
                bulwark.shutdown.drian-timeout = 1s
                bulwark.clusters.users.outlier-detection.failure-percentage.treshold = 5
                bulwark.clusters.users.circuit-breaker.wait-in-opne = 1s
                bulwark.routes = [ { cluster = users, retry { backof { base = 1ms } }, match { hots = "a.b" } } ]
                """;

        assertThat(problemsOf(hocon)).extracting(ConfigProblem::toString).containsExactly(
                "bulwark.shutdown.drian-timeout: unknown key (did you mean \"drain-timeout\"?)",
                "bulwark.clusters.users.outlier-detection.failure-percentage.treshold: unknown key (did you mean \"threshold\"?)",
                "bulwark.clusters.users.circuit-breaker.wait-in-opne: unknown key (did you mean \"wait-in-open\"?)",
                "bulwark.routes[0].match.hots: unknown key (did you mean \"host\"?)",
                "bulwark.routes[0].retry.backof: unknown key (did you mean \"backoff\"?)");
    }

    @Test
    void weightedClusterNamesGetADidYouMeanToo() {
        String hocon = BASE + """
                bulwark.clusters.users-v2.endpoints = [ "h:1" ]
                bulwark.routes = [ { clusters = [ { name = users, weight = 90 }, { name = users-v3, weight = 10 } ] } ]
                """;
        assertThat(problemsOf(hocon)).extracting(ConfigProblem::toString).containsExactly(
                "bulwark.routes[0].clusters[1].name: unknown cluster \"users-v3\" (did you mean \"users-v2\"?)");
    }

    @Test
    void everyValidationOfTheTableAlsoPassesWhenTheValueIsRight() throws Exception {
        // Guards the table against a check that rejects everything: the same keys with good values load.
        String hocon = BASE + """
                bulwark.listener { host = "::", max-initial-line-length = 256, max-header-size = 1MiB, max-body-size = 0 }
                bulwark.admin { host = "0.0.0.0", token = "t0k3n!", state-file = "state.json" }
                bulwark.shutdown.drain-timeout = 0s
                bulwark.clusters.users {
                  endpoints = [ "[2001:db8::1]:443", "my_service.local:80", { address = "10.0.0.1:8080", weight = 5 } ]
                  load-balancer = least-request
                  panic-threshold = 0
                  outlier-detection { max-ejection-percent = 100, max-ejection-time = 30s, failure-percentage.threshold = 0 }
                  circuit-breaker { failure-rate-threshold = 100, slow-call-rate-threshold = 0.5 }
                }
                bulwark.routes = [ {
                  cluster = users
                  match { path-exact = "/a/b", host = "*.example.com", methods = [ PATCH, PROPFIND ], headers { x-v = 2 } }
                  prefix-rewrite = "/v1/"
                  retry { max-retries = 0, retry-on = [], retriable-status = [ 100, 599 ], backoff { base = 0s, max = 0s } }
                  rate-limit { requests-per-second = 0.5, burst = 1, key = client-ip }
                  fault { abort { percent = 100, status = 200 }, delay { percent = 0, duration = 1s } }
                } ]
                """;
        BulwarkConfig cfg = ConfigLoader.parse(hocon, Map.of());
        assertThat(cfg.admin().token()).contains("t0k3n!");
        assertThat(cfg.cluster("users").orElseThrow().endpoints()).extracting(EndpointConfig::address)
                .containsExactly("[2001:db8::1]:443", "my_service.local:80", "10.0.0.1:8080");
        assertThat(cfg.routes().get(0).match().headers()).containsEntry("x-v", "2");
        assertThat(cfg.routes().get(0).retry().retryOn()).isEmpty();
        assertThat(cfg.routes().get(0).rateLimit().orElseThrow().burst()).isEqualTo(1);
    }
}
