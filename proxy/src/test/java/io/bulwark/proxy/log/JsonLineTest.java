package io.bulwark.proxy.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class JsonLineTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void writesValidJsonThatReadsBackToTheSameValues() throws Exception {
        String tricky = "/a\"b\\c\n\t\u0001\u007f é € 😀 \ud800 end";
        JsonLine line = new JsonLine().start()
                .time("time", 1_796_676_901_042L)
                .string("path", tricky)
                .string("none", null)
                .number("big", Long.MAX_VALUE)
                .number("neg", -12)
                .number("min", Long.MIN_VALUE)
                .millis3("d", 12.3456)
                .millis3("small", 0.0004)
                .millis3("negd", -1.5)
                .bool("yes", true)
                .end();

        assertThat(line.bytes()[line.length() - 1]).isEqualTo((byte) '\n');
        JsonNode n = JSON.readTree(line.text());
        assertThat(Instant.parse(n.get("time").asText())).isEqualTo(Instant.ofEpochMilli(1_796_676_901_042L));
        assertThat(n.get("path").asText()).isEqualTo(tricky.replace('\ud800', '?'));
        assertThat(n.get("none").isNull()).isTrue();
        assertThat(n.get("big").asLong()).isEqualTo(Long.MAX_VALUE);
        assertThat(n.get("neg").asLong()).isEqualTo(-12);
        assertThat(n.get("min").asLong()).isEqualTo(Long.MIN_VALUE);
        assertThat(n.get("d").decimalValue()).isEqualByComparingTo("12.346");
        assertThat(n.get("small").decimalValue()).isEqualByComparingTo("0");
        assertThat(n.get("negd").decimalValue()).isEqualByComparingTo("-1.5");
        assertThat(n.get("yes").asBoolean()).isTrue();
    }

    @Test
    void reusesItsBufferAndKeepsTheTimeOfEachLine() throws Exception {
        JsonLine line = new JsonLine();
        for (long millis : new long[] {0, 999, 1_000, 59_999, 1_796_676_901_000L, 1_796_676_901_999L}) {
            line.start().time("time", millis).string("s", "x".repeat((int) (millis % 2000))).end();
            JsonNode n = JSON.readTree(line.text());
            assertThat(Instant.parse(n.get("time").asText())).as("%d", millis).isEqualTo(Instant.ofEpochMilli(millis));
            assertThat(n.get("s").asText()).hasSize((int) (millis % 2000));
        }
    }
}
