package io.bulwark.admin;

import io.bulwark.routing.ManualClock;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static io.bulwark.admin.AdminFixture.upstreamPath;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code admin.state-file}: operator overrides survive a restart; a bad file is never fatal. */
class OperatorStateFileTest {

    private static final String A = "127.0.0.1:9001";
    private static final String B = "127.0.0.1:9002";
    private static final String C = "127.0.0.1:9003";

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("state").resolve("operator.json");
    }

    private AdminFixture start(ManualClock clock) {
        return start(clock, TestProxyControl.CONFIG);
    }

    private AdminFixture start(ManualClock clock, String config) {
        AdminFixture f = new AdminFixture(clock, config, file());
        f.api.restoreState();
        return f;
    }

    private static ManualClock clockAt(Duration sinceStart) {
        ManualClock clock = new ManualClock();
        clock.advance(sinceStart);
        return clock;
    }

    private JsonNode readFile() throws IOException {
        return AdminFixture.JSON.readTree(Files.readString(file()));
    }

    private static String at(Duration sinceStart) {
        return Instant.ofEpochMilli(ManualClock.START_MILLIS).plus(sinceStart).toString();
    }

    /** Drain A for 10m, override B unhealthy for good, weight C 5 for 1h. */
    private void changeAll(AdminFixture f) {
        assertThat(f.call("POST", upstreamPath("users", A) + "/drain?ttl=10m", null).status()).isEqualTo(202);
        assertThat(f.call("PUT", upstreamPath("users", B) + "/health", "{\"override\":\"unhealthy\"}").status())
                .isEqualTo(200);
        assertThat(f.call("PUT", upstreamPath("users", C) + "/weight", "{\"weight\":5,\"ttl\":\"1h\"}").status())
                .isEqualTo(200);
    }

    @Test
    void everyChangeIsWrittenWithItsDeadline() throws IOException {
        AdminFixture f = start(new ManualClock());
        changeAll(f);

        JsonNode root = readFile();

        assertThat(root.get("version").asInt()).isEqualTo(1);
        JsonNode ups = root.get("upstreams");
        assertThat(ups).extracting(n -> n.get("cluster").asText() + "/" + n.get("address").asText())
                .containsExactly("users/" + A, "users/" + B, "users/" + C);
        assertThat(ups.get(0).get("drained").asBoolean()).isTrue();
        assertThat(ups.get(0).get("drain_until").asText()).isEqualTo(at(Duration.ofMinutes(10)));
        assertThat(ups.get(1).get("override").asText()).isEqualTo("unhealthy");
        assertThat(ups.get(1).has("override_until")).isFalse();
        assertThat(ups.get(2).get("weight").asInt()).isEqualTo(5);
        assertThat(ups.get(2).get("weight_until").asText()).isEqualTo(at(Duration.ofHours(1)));
        try (Stream<Path> files = Files.list(file().getParent())) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("operator.json");
        }
    }

    @Test
    void aRestartReappliesTheOverridesWithTheTtlThatIsLeft() {
        changeAll(start(new ManualClock()));

        AdminFixture after = start(clockAt(Duration.ofMinutes(4)));

        Upstream a = after.upstream("users", A);
        assertThat(a.admin()).isEqualTo(Upstream.AdminState.DRAINED);
        assertThat(after.upstream("users", B).override()).isEqualTo(Upstream.HealthOverride.UNHEALTHY);
        assertThat(after.upstream("users", C).weight()).isEqualTo(5);
        assertThat(after.events.newest(10)).extracting(StateEvent::reason).containsOnly("state_file");

        after.scheduler.advance(Duration.ofMinutes(6).minusMillis(1));
        assertThat(a.admin()).isEqualTo(Upstream.AdminState.DRAINED);
        after.scheduler.advance(Duration.ofMillis(1));
        assertThat(a.admin()).isEqualTo(Upstream.AdminState.ACTIVE);

        after.scheduler.advance(Duration.ofMinutes(50));
        assertThat(after.upstream("users", C).weight()).isEqualTo(2);
        assertThat(after.upstream("users", B).override()).isEqualTo(Upstream.HealthOverride.UNHEALTHY);
    }

    @Test
    void overridesWhoseTtlRanOutWhileDownAreDropped() throws IOException {
        changeAll(start(new ManualClock()));

        AdminFixture after = start(clockAt(Duration.ofHours(2)));

        assertThat(after.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
        assertThat(after.upstream("users", C).weight()).isEqualTo(2);
        assertThat(after.upstream("users", B).override()).isEqualTo(Upstream.HealthOverride.UNHEALTHY);
        assertThat(readFile().get("upstreams")).extracting(n -> n.get("address").asText()).containsExactly(B);
    }

    @Test
    void undoingAChangeRemovesItsEntry() throws IOException {
        AdminFixture f = start(new ManualClock());
        changeAll(f);

        f.call("POST", upstreamPath("users", A) + "/restore", null);
        f.call("PUT", upstreamPath("users", B) + "/health", "{\"override\":\"none\"}");

        assertThat(readFile().get("upstreams")).extracting(n -> n.get("address").asText()).containsExactly(C);
    }

    @Test
    void anEntryForAnUpstreamThatIsGoneIsKeptInTheFile() throws IOException {
        changeAll(start(new ManualClock()));
        String withoutA = TestProxyControl.CONFIG.replace("\"127.0.0.1:9001\", ", "");

        AdminFixture after = start(new ManualClock(), withoutA);
        assertThat(after.upstream("users", A)).isNull();
        after.call("PUT", upstreamPath("users", B) + "/weight", "{\"weight\":3}");

        JsonNode ups = readFile().get("upstreams");
        assertThat(ups).extracting(n -> n.get("address").asText()).containsExactly(A, B, C);
        assertThat(ups.get(0).get("drain_until").asText()).isEqualTo(at(Duration.ofMinutes(10)));
        assertThat(ups.get(1).get("weight").asInt()).isEqualTo(3);
    }

    @Test
    void aBadEntryIsSkippedAndTheOthersApplied() throws IOException {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), """
                {"version":1,"upstreams":[
                  {"cluster":"users","address":"127.0.0.1:9001","override":"sideways"},
                  {"cluster":"users","address":"127.0.0.1:9002","drained":true}
                ]}
                """);

        AdminFixture f = start(new ManualClock());

        assertThat(f.upstream("users", A).override()).isEqualTo(Upstream.HealthOverride.NONE);
        assertThat(f.upstream("users", B).admin()).isEqualTo(Upstream.AdminState.DRAINED);
    }

    @Test
    void noFileMeansNothingToRestore() {
        AdminFixture f = start(new ManualClock());

        assertThat(f.events.newest(10)).isEmpty();
        assertThat(file()).doesNotExist();
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);
    }

    @Test
    void aCorruptFileIsMovedAsideReportedAndReplaced() throws IOException {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), "{\"version\":1,\"upstreams\":[{\"clus");

        AdminFixture f = start(new ManualClock());

        Path aside = file().resolveSibling("operator.json.corrupt-" + ManualClock.START_MILLIS);
        assertThat(aside).hasContent("{\"version\":1,\"upstreams\":[{\"clus");
        assertThat(file()).doesNotExist();
        StateEvent e = f.events.newest(1).get(0);
        assertThat(e.type()).isEqualTo("state_file_unreadable");
        assertThat(e.detail()).containsEntry("file", file().toString()).containsKey("error");
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.ACTIVE);

        f.call("POST", upstreamPath("users", A) + "/drain", null);
        assertThat(readFile().get("upstreams")).extracting(n -> n.get("address").asText()).containsExactly(A);
    }

    @Test
    void jsonThatIsNotAStateFileIsTreatedAsCorrupt() throws IOException {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), "[1,2,3]");

        AdminFixture f = start(new ManualClock());

        assertThat(file()).doesNotExist();
        StateEvent e = f.events.newest(1).get(0);
        assertThat(e.type()).isEqualTo("state_file_unreadable");
        assertThat((String) e.detail().get("error")).contains("not a Bulwark state file");
        try (Stream<Path> files = Files.list(file().getParent())) {
            assertThat(files.map(p -> p.getFileName().toString()).toList())
                    .isEqualTo(List.of("operator.json.corrupt-" + ManualClock.START_MILLIS));
        }
    }

    @Test
    void aFailedWriteIsReportedAndTheCallStillSucceeds() throws IOException {
        Path blocker = dir.resolve("state");
        Files.writeString(blocker, "a file where the directory should be");
        AdminFixture f = start(new ManualClock());

        AdminFixture.Answer a = f.call("POST", upstreamPath("users", A) + "/drain", null);

        assertThat(a.status()).isEqualTo(202);
        assertThat(f.upstream("users", A).admin()).isEqualTo(Upstream.AdminState.DRAINED);
        assertThat(f.events.newest(10)).extracting(StateEvent::type).contains("state_file_write_failed");
    }
}
