package io.bulwark.config.json;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JsonTest {

    @Test
    void plainTextIsOnlyWrappedInQuotes() {
        assertThat(Json.quote("no upstream 1.2.3.4:80 in cluster users"))
                .isEqualTo("\"no upstream 1.2.3.4:80 in cluster users\"");
        assertThat(Json.quote("")).isEqualTo("\"\"");
    }

    @Test
    void nullIsTheJsonLiteral() {
        assertThat(Json.quote(null)).isEqualTo("null");
        StringBuilder out = new StringBuilder("[");
        Json.appendQuoted(out, null);
        assertThat(out).hasToString("[null");
    }

    @Test
    void quotesAndBackslashesAreEscaped() {
        assertThat(Json.quote("say \"hi\" C:\\dir")).isEqualTo("\"say \\\"hi\\\" C:\\\\dir\"");
    }

    @Test
    void controlCharactersUseTheShortFormsWhereJsonHasThem() {
        assertThat(Json.quote("a\nb\rc\td\be\ff")).isEqualTo("\"a\\nb\\rc\\td\\be\\ff\"");
    }

    @Test
    void otherControlCharactersAndLineSeparatorsAreUnicodeEscapes() {
        assertThat(Json.quote("\u0000\u0001\u001f\u2028\u2029")).isEqualTo("\"\\u0000\\u0001\\u001f\\u2028\\u2029\"");
    }

    @Test
    void nonAsciiAndDeleteAreKept() {
        assertThat(Json.quote("caf\u00e9 \u20ac \u007f \ud83d\ude00")).isEqualTo("\"caf\u00e9 \u20ac \u007f \ud83d\ude00\"");
    }

    @Test
    void appendQuotedWritesTheSameAsQuote() {
        String s = "x\"y\u0002z";
        StringBuilder out = new StringBuilder("prefix:");
        Json.appendQuoted(out, s);
        assertThat(out).hasToString("prefix:" + Json.quote(s));
    }
}
