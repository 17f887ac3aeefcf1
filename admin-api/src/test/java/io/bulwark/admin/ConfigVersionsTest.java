package io.bulwark.admin;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The config version history: numbering, the kept window, rollback targets and the file next to the state file. */
class ConfigVersionsTest {

    @TempDir
    Path dir;

    private static BulwarkConfig config(String cluster) throws Exception {
        return ConfigLoader.parse("""
                bulwark {
                  admin { token = "s3cret" }
                  clusters { good { endpoints = [ "127.0.0.1:1" ] }, bad { endpoints = [ "127.0.0.1:2" ] } }
                  routes = [ { name = api, cluster = %s } ]
                }
                """.formatted(cluster));
    }

    @Test
    void versionsAreNumberedNewestFirstWithWhatChangedAndOnlyTheLastTwentyKept() throws Exception {
        ConfigVersions versions = ConfigVersions.inMemory();
        versions.add(config("good"), "start", "h1", Map.of(), true, 1000);
        ConfigVersions.Version second = versions.add(config("bad"), "admin_api", "h2", Map.of(), true, 2000);
        assertThat(second.number()).isEqualTo(2);
        assertThat(second.changes().routesChanged()).containsEntry("api", java.util.List.of("cluster"));
        assertThat(second.configJson()).contains("<redacted>").doesNotContain("s3cret");
        assertThat(versions.newestFirst()).extracting(ConfigVersions.Version::number).containsExactly(2, 1);
        for (int i = 3; i <= 25; i++) {
            versions.add(config(i % 2 == 0 ? "good" : "bad"), "sighup", "h" + i, Map.of(), true, i * 1000L);
        }
        assertThat(versions.newestFirst()).hasSize(ConfigVersions.CAPACITY);
        assertThat(versions.newestFirst().get(0).number()).isEqualTo(25);
        assertThat(versions.get(5)).isEmpty();
        assertThat(versions.get(6)).isPresent();
    }

    @Test
    void previousSkipsTheSameContentAndRolledBackContent() throws Exception {
        ConfigVersions versions = ConfigVersions.inMemory();
        versions.add(config("good"), "start", "A", Map.of(), true, 1);
        versions.add(config("bad"), "admin_api", "B", Map.of(), true, 2);
        assertThat(versions.previous().map(ConfigVersions.Version::number)).contains(1);
        versions.markRolledBack("B");
        versions.add(config("good"), "rollback", "A", Map.of("rolled_back_to", 1, "reason", "manual"), false, 3);
        assertThat(versions.differsFromFile()).isTrue();
        assertThat(versions.note()).get().asString().contains("rolled back to version 1 (manual)");
        assertThat(versions.previous()).as("2 was rolled back, 1 is the same content").isEmpty();
        assertThat(versions.lastGood().map(ConfigVersions.Version::number)).contains(3);
        // The file's content applied again on purpose: no longer rolled back, no longer differing.
        versions.add(config("bad"), "admin_api", "B", Map.of(), true, 4);
        assertThat(versions.rolledBack("B")).isFalse();
        assertThat(versions.differsFromFile()).isFalse();
        assertThat(versions.note()).isEmpty();
    }

    @Test
    void theHistorySurvivesARestartNextToTheStateFileWithTheTokenNotWrittenAndRestoredFromTheRunningOne()
            throws Exception {
        Path file = ConfigVersions.fileFor(dir.resolve("bulwark-state.json"));
        assertThat(file.getFileName().toString()).isEqualTo("bulwark-state.config-versions.json");
        ConfigVersions first = ConfigVersions.load(file);
        first.add(config("good"), "start", "A", Map.of(), true, 1000);
        first.add(config("bad"), "file_change", "B", Map.of(), true, 2000);
        first.markRolledBack("B");
        assertThat(Files.readString(file)).doesNotContain("s3cret");

        ConfigVersions second = ConfigVersions.load(file);
        assertThat(second.newestFirst()).extracting(ConfigVersions.Version::number).containsExactly(2, 1);
        assertThat(second.rolledBack("B")).isTrue();
        ConfigVersions.Version v1 = second.get(1).orElseThrow();
        assertThat(v1.source()).isEqualTo("start");
        assertThat(v1.timeMillis()).isEqualTo(1000);
        assertThat(second.get(2).orElseThrow().changes().routesChanged()).containsKey("api");
        BulwarkConfig restored = ConfigVersions.restorable(v1, Optional.of("new-token")).orElseThrow();
        assertThat(restored.admin().token()).contains("new-token");
        assertThat(restored.routes().get(0).clusters().get(0).name()).isEqualTo("good");
        assertThat(second.add(config("good"), "start", "A", Map.of(), true, 3000).number()).isEqualTo(3);
    }

    @Test
    void anUnreadableHistoryIsMovedAsideAndANewOneStarts() throws Exception {
        Path file = dir.resolve("state.config-versions.json");
        Files.writeString(file, "{ not json");
        ConfigVersions versions = ConfigVersions.load(file);
        assertThat(versions.current()).isEmpty();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .anyMatch(n -> n.startsWith("state.config-versions.json.corrupt-"));
        }
        versions.add(config("good"), "start", "A", Map.of(), true, 1);
        assertThat(ConfigVersions.load(file).current()).isPresent();
    }
}
