package io.bulwark.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code bulwark.fleet} and {@code rate-limit.scope}: defaults, checks naming the path, no password shown. */
class FleetConfigTest {

    private static final String BASE = """
            bulwark {
              listener { port = 8080 }
              clusters { users { endpoints = [ "127.0.0.1:9001" ] } }
              routes = [ { cluster = users, rate-limit { requests-per-second = 100, scope = global } } ]
            }
            """;

    @Test
    void aFleetBlockGetsEveryDefault() throws ConfigValidationException {
        BulwarkConfig c = ConfigLoader.parse(BASE + "bulwark.fleet { name = payments }", Map.of());

        FleetConfig f = c.fleet().orElseThrow();
        assertThat(f.redis()).isEqualTo("redis://127.0.0.1:6379");
        assertThat(f.mode()).isEqualTo(FleetConfig.Mode.STANDALONE);
        assertThat(f.name()).isEqualTo("payments");
        assertThat(f.memberTtl()).isEqualTo(Duration.ofSeconds(10));
        assertThat(f.onRedisDown()).isEqualTo(FleetConfig.OnRedisDown.LOCAL);
        assertThat(f.timeout()).isEqualTo(Duration.ofMillis(100));
        assertThat(f.passwordFile()).isEmpty();
        assertThat(c.routes().get(0).rateLimit().orElseThrow().scope()).isEqualTo(RateLimitConfig.Scope.GLOBAL);
    }

    @Test
    void withoutAFleetBlockThereIsNoFleetAndLimitsAreLocal() throws ConfigValidationException {
        BulwarkConfig c = ConfigLoader.parse("""
                bulwark {
                  listener { port = 8080 }
                  clusters { users { endpoints = [ "127.0.0.1:9001" ] } }
                  routes = [ { cluster = users, rate-limit { requests-per-second = 100 } } ]
                }
                """, Map.of());

        assertThat(c.fleet()).isEmpty();
        assertThat(c.routes().get(0).rateLimit().orElseThrow().scope()).isEqualTo(RateLimitConfig.Scope.LOCAL);
    }

    @Test
    void aGlobalLimitWithoutAFleetIsAnErrorNamingThePath() {
        List<ConfigProblem> problems = ConfigValidationTest.problemsOf(BASE);

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0).path()).isEqualTo("bulwark.routes[0].rate-limit.scope");
        assertThat(problems.get(0).message()).contains("bulwark.fleet");
    }

    @Test
    void badFleetValuesNameTheirPaths() {
        List<ConfigProblem> problems = ConfigValidationTest.problemsOf(BASE + """
                bulwark.fleet { redis = "http://x:1", mode = sentinal, member-ttl = 100ms, on-redis-down = fail,
                                name = "a b", passwrd-file = x }
                """);

        assertThat(problems).extracting(ConfigProblem::path).contains("bulwark.fleet.redis", "bulwark.fleet.mode",
                "bulwark.fleet.member-ttl", "bulwark.fleet.on-redis-down", "bulwark.fleet.name",
                "bulwark.fleet.passwrd-file");
        assertThat(problems.toString()).contains("did you mean \"sentinel\"");
    }

    @Test
    void aSentinelUriNeedsModeSentinel() {
        List<ConfigProblem> problems = ConfigValidationTest.problemsOf(BASE
                + "bulwark.fleet { redis = \"redis-sentinel://127.0.0.1:26379/0#mymaster\" }");

        assertThat(problems).extracting(ConfigProblem::path).containsExactly("bulwark.fleet.mode");
    }

    @Test
    void theRedisPasswordIsNeverShown() throws ConfigValidationException {
        BulwarkConfig c = ConfigLoader.parse(BASE
                + "bulwark.fleet { redis = \"rediss://ops:s3cret@redis.internal:6380/0\" }", Map.of());

        assertThat(c.fleet().orElseThrow().toString()).doesNotContain("s3cret").contains("ops:<redacted>@");
        assertThat(ConfigLoader.toJson(c, true)).doesNotContain("s3cret").contains("rediss://ops:<redacted>@");
        assertThat(ConfigLoader.toJson(c, false)).as("unredacted, it loads back").contains("s3cret");
        List<ConfigProblem> bad = ConfigValidationTest.problemsOf(BASE + "bulwark.fleet { redis = \"ftp://:pw@h\" }");
        assertThat(bad.toString()).doesNotContain("pw@").contains("<redacted>");
    }

    @Test
    void theRenderedConfigLoadsBackEqual() throws ConfigValidationException {
        BulwarkConfig c = ConfigLoader.parse(BASE + "bulwark.fleet { name = payments, on-redis-down = deny }", Map.of());

        BulwarkConfig again = ConfigLoader.parse(ConfigLoader.toJson(c, false), Map.of());

        assertThat(again.fleet()).isEqualTo(c.fleet());
        assertThat(again.routes().get(0).rateLimit()).isEqualTo(c.routes().get(0).rateLimit());
    }
}
