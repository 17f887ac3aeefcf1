package io.bulwark.proxy.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class PathNormalizerTest {

    private static final PathNormalizer STRICT = PathNormalizer.strict();
    private static final PathNormalizer PASSING = PathNormalizer.passingUnsafeEscapes();

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = " -> ", value = {
            "/ -> /",
            "/users/42 -> /users/42",
            "/a/b/ -> /a/b/",
            // unreserved escapes are decoded once
            "/%61dmin -> /admin",
            "/%7Euser/%2d%2E%5f -> /~user/-._",
            "/caf%c3%a9 -> /caf%C3%A9",
            "/a%20b -> /a%20b",
            "/a%2a -> /a%2A",
            "/%252F -> /%252F",
            "/%25 -> /%25",
            // dot segments (RFC 3986 5.2.4)
            "/a/./b -> /a/b",
            "/a/../b -> /b",
            "/a/b/../../c -> /c",
            "/../../etc/passwd -> /etc/passwd",
            "/a/.. -> /",
            "/a/. -> /a/",
            "/a/b/.. -> /a/",
            "/. -> /",
            "/.. -> /",
            "/.well-known/x -> /.well-known/x",
            "/a/.../b -> /a/.../b",
            "/a/..b/c -> /a/..b/c",
            // an escaped dot is a dot: no bypass through %2E
            "/public/%2e%2e/admin -> /admin",
            "/public/.%2E/admin -> /admin",
            // repeated slashes merge, before dots resolve
            "//admin -> /admin",
            "/a///b// -> /a/b/",
            "/a//../b -> /b",
    })
    void normalizes(String in, String expected) {
        PathNormalizer.Result r = STRICT.normalize(in);
        assertThat(r.failure()).isNull();
        assertThat(r.ok()).isTrue();
        assertThat(r.path()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} refused")
    @CsvSource(delimiterString = " -> ", value = {
            "/a%2Fb -> encoded / (%2F) in path",
            "/a%2fb -> encoded / (%2F) in path",
            "/..%2F..%2Fadmin -> encoded / (%2F) in path",
            "/a%5Cb -> encoded \\ (%5C) in path",
            "/a%00 -> encoded NUL (%00) in path",
            "/a% -> malformed percent-encoding in path",
            "/a%4 -> malformed percent-encoding in path",
            "/a%zz -> malformed percent-encoding in path",
            "/a%%41 -> malformed percent-encoding in path",
            "/a%\uff11\uff12 -> malformed percent-encoding in path",
            "relative -> path must start with /",
    })
    void refusesUnsafeAndMalformedEscapes(String in, String reason) {
        PathNormalizer.Result r = STRICT.normalize(in);
        assertThat(r.ok()).isFalse();
        assertThat(r.path()).isNull();
        assertThat(r.failure()).isEqualTo(reason);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = " -> ", value = {
            "/a%2fb -> /a%2Fb",
            "/a%5cb/../c -> /c",
            "/a%5Cb/%2E%2E/c -> /c",
            "/a%00b -> /a%00b",
            "/a%zz -> /a%zz",
            "/a% -> /a%",
            "/a%%41 -> /a%A",
            "/x/..%2F..%2Fadmin -> /x/..%2F..%2Fadmin",
    })
    void passesUnsafeEscapesThroughWhenAskedTo(String in, String expected) {
        PathNormalizer.Result r = PASSING.normalize(in);
        assertThat(r.ok()).isTrue();
        assertThat(r.path()).isEqualTo(expected);
    }

    @Test
    void anAlreadyNormalPathIsReturnedAsTheSameString() {
        String path = "/users/42/orders";
        assertThat(STRICT.normalize(path).path()).isSameAs(path);
    }

    @Test
    void anEmptyPathIsRefused() {
        assertThat(STRICT.normalize("").ok()).isFalse();
    }

    @Test
    void normalizingTwiceChangesNothing() {
        for (String in : new String[] {"/a/./b/../c//d/%7e/%c3", "/%2e%2e/x/..", "/a%20b//c/."}) {
            String once = STRICT.normalize(in).path();
            assertThat(STRICT.normalize(once).path()).as(in).isEqualTo(once);
        }
    }
}
