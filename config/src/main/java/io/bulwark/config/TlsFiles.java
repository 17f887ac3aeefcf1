package io.bulwark.config;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

/** Reads a file path key and checks the file is there and readable, so TLS problems surface at load time. */
final class TlsFiles {

    private TlsFiles() {
    }

    static Optional<Path> optionalReadableFile(ConfigReader r, String key, String expected) {
        Optional<String> text = r.optionalString(key, expected);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Path path;
        try {
            path = Path.of(text.get());
        } catch (InvalidPathException e) {
            r.problem(key, "\"" + text.get() + "\" (expected: " + expected + ")");
            return Optional.empty();
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            r.problem(key, "\"" + text.get() + "\" (expected: " + expected + "; no such readable file)");
            return Optional.empty();
        }
        return Optional.of(path);
    }
}
