package io.bulwark.routing.fallback;

import io.bulwark.config.FallbackConfig;
import io.bulwark.routing.ManualClock;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

class StaleCacheTest {

    private final ManualClock clock = new ManualClock();
    private final StaleCache cache = new StaleCache(
            new FallbackConfig(Optional.of(Duration.ofMinutes(5)), 8 * 1024, Optional.empty()), Duration.ofMinutes(5),
            clock);

    private static Function<String, String> fields(String... pairs) {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m::get;
    }

    private static final Function<String, String> NONE = name -> null;

    @Test
    void onlyWhatASharedCacheMayServeStaleIsKept() {
        assertThat(cache.storable("GET", NONE, 200, NONE, 10)).isTrue();
        assertThat(cache.storable("GET", NONE, 203, NONE, -1)).isTrue();
        assertThat(cache.storable("POST", NONE, 200, NONE, 10)).as("not a GET").isFalse();
        assertThat(cache.storable("GET", NONE, 500, NONE, 10)).as("not a success").isFalse();
        assertThat(cache.storable("GET", NONE, 206, NONE, 10)).as("a part").isFalse();
        assertThat(cache.storable("GET", NONE, 200, NONE, 1025)).as("over an eighth of max-size").isFalse();
        for (String cc : new String[] {"no-store", "private", "No-Cache", "max-age=60, must-revalidate",
            "proxy-revalidate", "private=\"x-a\""}) {
            assertThat(cache.storable("GET", NONE, 200, fields("cache-control", cc), 10)).as(cc).isFalse();
        }
        assertThat(cache.storable("GET", fields("cache-control", "no-store"), 200, NONE, 10)).isFalse();
        assertThat(cache.storable("GET", NONE, 200, fields("vary", "accept, *"), 10)).isFalse();
        assertThat(cache.storable("GET", NONE, 200, fields("set-cookie", "s=1"), 10)).isFalse();
        assertThat(cache.storable("GET", fields("authorization", "Bearer x"), 200, NONE, 10))
                .as("an authorised response is not shared...").isFalse();
        assertThat(cache.storable("GET", fields("authorization", "Bearer x"), 200,
                fields("cache-control", "public, max-age=60"), 10)).as("...unless it says public").isTrue();
    }

    @Test
    void aCopyIsServedWithinTheWindowOnlyAndItsAgeCounts() {
        cache.store("h/a", NONE, 200, List.of(Map.entry("Content-Type", "text/plain")), bytes("hello"));
        clock.advance(Duration.ofSeconds(90));

        StaleCache.Copy copy = cache.lookup("h/a", NONE).orElseThrow();
        assertThat(new String(copy.body(), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(copy.headers()).containsExactly(Map.entry("Content-Type", "text/plain"));
        assertThat(copy.ageSeconds(clock.currentTimeMillis())).isEqualTo(90);
        assertThat(cache.lookup("h/b", NONE)).isEmpty();

        clock.advance(Duration.ofSeconds(210)); // 5 minutes after it was kept
        assertThat(cache.lookup("h/a", NONE)).isEmpty();
    }

    @Test
    void varyIsHonouredAndEachVariantIsKeptApart() {
        List<Map.Entry<String, String>> varying = List.of(Map.entry("Vary", "Accept-Language"));
        cache.store("h/p", fields("accept-language", "en"), 200, varying, bytes("hello"));
        cache.store("h/p", fields("accept-language", "fr"), 200, varying, bytes("bonjour"));

        assertThat(body(cache.lookup("h/p", fields("accept-language", "fr")))).isEqualTo("bonjour");
        assertThat(body(cache.lookup("h/p", fields("accept-language", "en")))).isEqualTo("hello");
        assertThat(cache.lookup("h/p", fields("accept-language", "de"))).isEmpty();
        assertThat(cache.lookup("h/p", NONE)).isEmpty();

        cache.store("h/p", fields("accept-language", "en"), 200, varying, bytes("hello again"));
        assertThat(body(cache.lookup("h/p", fields("accept-language", "en")))).isEqualTo("hello again");
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void theCacheStaysWithinMaxSize() {
        for (int i = 0; i < 100; i++) {
            cache.store("h/" + i, NONE, 200, List.of(), new byte[512]);
        }
        assertThat(cache.size()).isLessThan(16); // 8 KiB of copies of a bit over 512 bytes
        cache.store("h/big", NONE, 200, List.of(), new byte[1025]);
        assertThat(cache.lookup("h/big", NONE)).as("a body over an eighth of max-size is never kept").isEmpty();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String body(Optional<StaleCache.Copy> copy) {
        return new String(copy.orElseThrow().body(), StandardCharsets.UTF_8);
    }
}
