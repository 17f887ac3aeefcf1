package io.bulwark.routing.lb;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class XxHash64Test {

    private static long hash(String ascii, long seed) {
        byte[] bytes = ascii.getBytes(StandardCharsets.US_ASCII);
        return XxHash64.hash(bytes, 0, bytes.length, seed);
    }

    @Test
    void matchesPublishedXxh64Vectors() {
        assertThat(hash("", 0)).isEqualTo(0xEF46DB3751D8E999L);
        assertThat(hash("a", 0)).isEqualTo(0xD24EC4F1A98C6E5BL);
        assertThat(hash("abc", 0)).isEqualTo(0x44BC2CF5AD770999L);
        // Longer than 32 bytes: exercises the four-lane loop and every tail step.
        assertThat(hash("Nobody inspects the spammish repetition", 0)).isEqualTo(0xFBCEA83C8A378BF1L);
        assertThat(hash("xxhash", 0)).isEqualTo(0x32DD38952C4BC720L);
        assertThat(hash("xxhash", 20141025)).isEqualTo(0xB559B98D844E0635L);
    }

    @Test
    void textIsHashedAsUtf16LittleEndianWithoutDependingOnTheBuffer() {
        XxHash64 hasher = new XxHash64();
        String text = "user-\u00e9\u4e2d-" + "x".repeat(200); // longer than the initial buffer
        byte[] utf16le = text.getBytes(StandardCharsets.UTF_16LE);

        assertThat(hasher.hash(text)).isEqualTo(XxHash64.hash(utf16le, 0, utf16le.length, 0));
        assertThat(hasher.hash("short")).isEqualTo(new XxHash64().hash("short"));
        assertThat(hasher.hash(new StringBuilder("short"))).isEqualTo(hasher.hash("short"));
    }
}
