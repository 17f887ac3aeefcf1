package io.bulwark.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The summary of a config version: what a reload added, removed and changed, by name and key. */
class ConfigDiffTest {

    private static final String BEFORE = """
            bulwark {
              listener { port = 8080 }
              clusters {
                api { endpoints = [ "127.0.0.1:9001" ] }
                old { endpoints = [ "127.0.0.1:9002" ] }
              }
              routes = [
                { name = api, match { path-prefix = "/api" }, cluster = api }
                { name = rest, cluster = old }
              ]
            }
            """;

    @Test
    void namesAddedRemovedAndChangedClustersRoutesAndKeys() throws Exception {
        BulwarkConfig before = ConfigLoader.parse(BEFORE);
        BulwarkConfig after = ConfigLoader.parse("""
                bulwark {
                  listener { port = 8080, idle-timeout = 30s }
                  reload { auto-rollback = true }
                  clusters {
                    api { endpoints = [ "127.0.0.1:9001" ], pool { idle-timeout = 5s } }
                    bad { endpoints = [ "127.0.0.1:9003" ] }
                  }
                  routes = [
                    { name = api, match { path-prefix = "/api" }, cluster = bad, retry { max-retries = 0 } }
                    { name = new, cluster = api }
                  ]
                }
                """);
        ConfigDiff diff = ConfigDiff.between(before, after);
        assertThat(diff.clustersAdded()).containsExactly("bad");
        assertThat(diff.clustersRemoved()).containsExactly("old");
        assertThat(diff.clustersChanged()).containsOnlyKeys("api");
        assertThat(diff.clustersChanged().get("api")).containsExactly("pool.idle-timeout");
        assertThat(diff.routesAdded()).containsExactly("new");
        assertThat(diff.routesRemoved()).containsExactly("rest");
        assertThat(diff.routesChanged().get("api")).containsExactly("cluster", "retry.max-retries");
        assertThat(diff.settingsChanged()).containsExactly("listener.idle-timeout", "reload.auto-rollback");
        assertThat(diff.describe()).contains("routes changed: api (cluster, retry.max-retries)")
                .contains("clusters added: bad");
        assertThat(diff.empty()).isFalse();
    }

    @Test
    void theSameContentIsNoChangeAndTheFirstConfigIsAllAdded() throws Exception {
        BulwarkConfig config = ConfigLoader.parse(BEFORE);
        assertThat(ConfigDiff.between(config, ConfigLoader.parse(BEFORE)).empty()).isTrue();
        ConfigDiff initial = ConfigDiff.initial(config);
        assertThat(initial.clustersAdded()).containsExactly("api", "old");
        assertThat(initial.routesAdded()).containsExactly("api", "rest");
        assertThat(initial.settingsChanged()).isEmpty();
    }

    @Test
    void unnamedRoutesAreNamedByPositionSoMovingOneReadsAsRemovedAndAdded() throws Exception {
        BulwarkConfig before = ConfigLoader.parse("""
                bulwark {
                  clusters { a { endpoints = [ "127.0.0.1:1" ] } }
                  routes = [ { match { path-prefix = "/x" }, cluster = a }, { cluster = a } ]
                }
                """);
        BulwarkConfig after = ConfigLoader.parse("""
                bulwark {
                  clusters { a { endpoints = [ "127.0.0.1:1" ] } }
                  routes = [ { cluster = a } ]
                }
                """);
        ConfigDiff diff = ConfigDiff.between(before, after);
        assertThat(diff.routesRemoved()).containsExactly("route-1");
        assertThat(diff.routesChanged().get("route-0")).containsExactly("match.path-prefix");
    }

    @Test
    void reloadDefaultsAreBuiltIn() throws Exception {
        ReloadConfig reload = ConfigLoader.parse(BEFORE).reload();
        assertThat(reload).isEqualTo(new ReloadConfig(false, Duration.ofSeconds(60), 5, 2.0, 50));
        assertThat(ConfigLoader.toJson(ConfigLoader.parse(BEFORE), true))
                .contains("\"reload\":{\"auto-rollback\":false,\"bake-time\":\"1m\"");
    }
}
