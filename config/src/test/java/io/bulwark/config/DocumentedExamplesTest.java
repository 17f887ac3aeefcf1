package io.bulwark.config;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The configs under docs/examples are what operators copy: each must validate as it stands. */
class DocumentedExamplesTest {

    @ParameterizedTest
    @ValueSource(strings = {"full.conf", "minimal.conf"})
    void validates(String name) throws Exception {
        Path file = Path.of("..", "docs", "examples", name);
        assertThat(file).exists();
        BulwarkConfig config = ConfigLoader.parse(Files.readString(file), Map.of("BULWARK_ADMIN_TOKEN", "s3cret"));
        assertThat(config.routes()).isNotEmpty();
    }
}
