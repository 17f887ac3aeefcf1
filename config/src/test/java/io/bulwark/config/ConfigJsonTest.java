package io.bulwark.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The effective config as JSON: valid JSON, secrets redacted, and loadable back into the same config. */
class ConfigJsonTest {

    /** Strict JSON parsing (not HOCON), so anything HOCON would forgive fails here. */
    private static Config parseStrictJson(String json) {
        return ConfigFactory.parseString(json, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    }

    private static Config firstRoute(Config json) {
        return json.getConfigList("bulwark.routes").get(0);
    }

    @Test
    void redactsTheAdminToken() throws Exception {
        BulwarkConfig cfg = ConfigLoaderTest.full();

        String json = ConfigLoader.toJson(cfg, true);

        assertThat(json).doesNotContain("s3cret");
        assertThat(parseStrictJson(json).getString("bulwark.admin.token")).isEqualTo("<redacted>");
        assertThat(parseStrictJson(ConfigLoader.toJson(cfg, false)).getString("bulwark.admin.token")).isEqualTo("s3cret");
    }

    @Test
    void absentTokenIsNullNotRedacted() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse(ConfigLoaderTest.MINIMAL, Map.of());

        Config json = parseStrictJson(ConfigLoader.toJson(cfg, true));

        assertThat(json.getIsNull("bulwark.admin.token")).isTrue();
    }

    @Test
    void usesHoconKeyNamesDurationStringsAndByteSizes() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse(ConfigLoaderTest.MINIMAL, Map.of());

        Config json = parseStrictJson(ConfigLoader.toJson(cfg, true));

        assertThat(json.getLong("bulwark.listener.max-body-size")).isEqualTo(10L * 1024 * 1024);
        assertThat(json.getString("bulwark.listener.request-header-timeout")).isEqualTo("10s");
        assertThat(json.getString("bulwark.clusters.users.load-balancer")).isEqualTo("round-robin");
        assertThat(json.getString("bulwark.clusters.users.outlier-detection.max-ejection-time")).isEqualTo("5m");
        assertThat(json.getString("bulwark.clusters.users.outlier-detection.readmit")).isEqualTo("timer");
        assertThat(json.getString("bulwark.clusters.users.outlier-detection.readmit-guard")).isEqualTo("1m");
        assertThat(json.getIsNull("bulwark.clusters.users.outlier-detection.latency")).isTrue();
        assertThat(firstRoute(json).getStringList("retry.retry-on"))
                .containsExactly("connect-failure", "reset", "gateway-error");
        assertThat(firstRoute(json).getString("retry.backoff.base")).isEqualTo("25ms");
        assertThat(firstRoute(json).getLong("retry.buffer-limit")).isEqualTo(65536);
        assertThat(firstRoute(json).getString("match.path-prefix")).isEqualTo("/");
    }

    @Test
    void fullConfigRoundTripsThroughJson() throws Exception {
        BulwarkConfig cfg = ConfigLoaderTest.full();

        BulwarkConfig again = ConfigLoader.parse(ConfigLoader.toJson(cfg, false), Map.of());

        assertThat(again).isEqualTo(cfg);
    }

    @Test
    void minimalConfigRoundTripsThroughJson() throws Exception {
        BulwarkConfig cfg = ConfigLoader.parse(ConfigLoaderTest.MINIMAL, Map.of());

        assertThat(ConfigLoader.parse(ConfigLoader.toJson(cfg, false), Map.of())).isEqualTo(cfg);
    }

    @Test
    void escapesStringsProperly() throws Exception {
        String hocon = ConfigLoaderTest.MINIMAL + """
                bulwark.routes = [ { cluster = users, request-headers.add { x-q = "say \\"hi\\"\\tC:\\\\dir\\u00e9" } } ]
                """;
        BulwarkConfig cfg = ConfigLoader.parse(hocon, Map.of());
        String value = cfg.routes().get(0).requestHeaders().add().get("x-q");
        assertThat(value).isEqualTo("say \"hi\"\tC:\\dir\u00e9");

        String json = ConfigLoader.toJson(cfg, true);

        assertThat(json).contains("\"x-q\":\"say \\\"hi\\\"\\tC:\\\\dir\u00e9\"");
        assertThat(firstRoute(parseStrictJson(json)).getString("request-headers.add.x-q")).isEqualTo(value);
    }

    @Test
    void jsonWriterEscapesControlCharacters() {
        assertThat(JsonWriter.write(Map.of("k", "a\u0001b\nc\u2028")))
                .isEqualTo("{\"k\":\"a\\u0001b\\nc\\u2028\"}");
    }

    @ParameterizedTest
    @CsvSource({
            "PT0S, 0s",
            "PT0.25S, 250ms",
            "PT1.5S, 1500ms",
            "PT5S, 5s",
            "PT90S, 90s",
            "PT5M, 5m",
            "PT1H, 1h",
            "PT48H, 2d",
            "PT0.000001S, 1us",
            "PT0.000000007S, 7ns",
    })
    void durationsUseTheLargestExactUnit(String iso, String hocon) {
        Duration d = Duration.parse(iso);

        assertThat(ConfigJson.duration(d)).isEqualTo(hocon);
        // And HOCON reads it back as the same duration.
        assertThat(ConfigFactory.parseString("d = " + hocon).getDuration("d")).isEqualTo(d);
    }
}
