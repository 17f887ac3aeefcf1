package io.bulwark.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The operator console's static files ({@code /}, {@code /console.js}, {@code /console.css} on the
 * admin listener), read from the jar once, on the first request for them. They hold no data and
 * no secret: the page asks for the admin token and calls the {@code /api} endpoints with it, so
 * serving them needs no token. The headers keep the page from being framed, sniffed or running
 * any script but its own file.
 */
final class ConsolePage {

    /** No inline script or style, no other origin, no framing, no form posts, no plugins. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
            + "form-action 'none'";

    /** A console file: its bytes and content type. */
    record Asset(byte[] body, String contentType) {
    }

    private ConsolePage() {
    }

    private static final class Assets {
        static final Map<String, Asset> BY_PATH = Map.of(
                "/", load("index.html", "text/html; charset=utf-8"),
                "/console.js", load("console.js", "text/javascript; charset=utf-8"),
                "/console.css", load("console.css", "text/css; charset=utf-8"));
    }

    /** The file served at {@code path}, or null when the path is not one of the console's. */
    static Asset asset(String path) {
        if (!path.equals("/") && !path.equals("/console.js") && !path.equals("/console.css")) {
            return null;
        }
        return Assets.BY_PATH.get(path);
    }

    private static Asset load(String name, String contentType) {
        String resource = "console/" + name;
        try (InputStream in = ConsolePage.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the console file " + resource + " is missing from the jar");
            }
            return new Asset(in.readAllBytes(), contentType);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the console file " + resource, e);
        }
    }
}
