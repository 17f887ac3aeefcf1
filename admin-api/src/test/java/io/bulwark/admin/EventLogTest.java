package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.admin.AdminFixture.Answer;
import io.bulwark.routing.StateEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The bounded event log and {@code GET /api/v1/events?limit=N}. */
class EventLogTest {

    private static StateEvent event(int n) {
        return new StateEvent(1_000L + n, "e" + n, "c", "u", null, null, "test", Map.of());
    }

    @Test
    void newestFirst() {
        EventLog log = new EventLog(10);
        for (int i = 1; i <= 3; i++) {
            log.publish(event(i));
        }

        assertThat(log.newest(10)).extracting(StateEvent::type).containsExactly("e3", "e2", "e1");
    }

    @Test
    void anEventStampedBeforeItsNeighbourButPublishedAfterItIsListedInTimeOrder() {
        // Two event loops each stamp an event and publish it; the later stamp can win the race.
        EventLog log = new EventLog(10);
        log.publish(event(1));
        log.publish(event(5));
        log.publish(event(3));
        log.publish(event(7));
        log.publish(new StateEvent(1_007L, "same-time", "c", "u", null, null, "test", Map.of()));

        assertThat(log.newest(10)).extracting(StateEvent::type).containsExactly("same-time", "e7", "e5", "e3", "e1");
        assertThat(log.newest(10)).extracting(StateEvent::timeMillis).isSortedAccordingTo((a, b) -> Long.compare(b, a));
    }

    @Test
    void theOldestFallOffAtCapacity() {
        EventLog log = new EventLog(3);
        for (int i = 1; i <= 5; i++) {
            log.publish(event(i));
        }

        assertThat(log.newest(100)).extracting(StateEvent::type).containsExactly("e5", "e4", "e3");
        assertThat(log.capacity()).isEqualTo(3);
    }

    @Test
    void limitTakesTheNewest() {
        EventLog log = new EventLog(10);
        for (int i = 1; i <= 5; i++) {
            log.publish(event(i));
        }

        assertThat(log.newest(2)).extracting(StateEvent::type).containsExactly("e5", "e4");
        assertThat(log.newest(0)).isEmpty();
    }

    @Test
    void concurrentPublishersNeverOverfillIt() throws Exception {
        EventLog log = new EventLog(64);
        int threads = 4;
        int each = 2_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * each;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        log.publish(event(base + i));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> d : done) {
                d.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(log.newest(Integer.MAX_VALUE)).hasSize(64).doesNotHaveDuplicates();
        log.publish(new StateEvent(Long.MAX_VALUE, "last", "c", "u", null, null, "test", Map.of()));
        assertThat(log.newest(Integer.MAX_VALUE)).hasSize(64).first()
                .extracting(StateEvent::type).isEqualTo("last");
    }

    // ---- over the API ----

    private final AdminFixture f = new AdminFixture();

    private void publish(int count) {
        for (int i = 1; i <= count; i++) {
            f.events.publish(event(i));
        }
    }

    @Test
    void theApiDefaultsTo100NewestFirst() {
        publish(3);

        Answer a = f.get("/api/v1/events");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("events")).extracting(e -> e.get("type").asText()).containsExactly("e3", "e2", "e1");
    }

    @Test
    void limitIsHonoured() {
        publish(10);

        JsonNode events = f.get("/api/v1/events?limit=4").json().get("events");

        assertThat(events).extracting(e -> e.get("type").asText()).containsExactly("e10", "e9", "e8", "e7");
    }

    @Test
    void aLimitAboveTheCapacityGivesTheWholeLog() {
        publish(AdminFixture.EVENT_CAPACITY + 5);

        JsonNode events = f.get("/api/v1/events?limit=100000").json().get("events");

        assertThat(events).hasSize(AdminFixture.EVENT_CAPACITY);
        assertThat(events.get(0).get("type").asText()).isEqualTo("e" + (AdminFixture.EVENT_CAPACITY + 5));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "x", "1.5", "99999999999"})
    void aLimitThatIsNotAPositiveIntegerIs400(String limit) {
        Answer a = f.get("/api/v1/events?limit=" + limit);

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.error()).isEqualTo("bad_request");
        assertThat(a.json().get("message").asText()).contains(limit);
    }
}
