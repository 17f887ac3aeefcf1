package io.bulwark.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI of CONTRACT §1 against the built jar: exit codes 0/1/2 and messages without stack traces. */
class CommandLineTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    @Test
    void validateSaysOkAndExitsZeroForAGoodConfig() throws Exception {
        Path config = write("good.conf", """
                bulwark {
                  listener { port = 8080 }
                  clusters { users { endpoints = [ "127.0.0.1:9001" ] } }
                  routes = [ { match { path-prefix = "/" }, cluster = users } ]
                }
                """);
        BulwarkProcess p = BulwarkProcess.runToEnd("validate", "--config", config.toString());
        assertThat(p.exitCode()).as(p.output()).isZero();
        assertThat(p.stdout()).containsExactly("OK");
    }

    @Test
    void validateListsEveryProblemWithItsPathAndExitsTwo() throws Exception {
        Path config = write("bad.conf", """
                bulwark {
                  listener { port = 70000, prot = 1 }
                  clusters { users { endpoints = [ "127.0.0.1:9001" ], load-balancer = round-robbin } }
                  routes = [
                    { match { path-prefix = "/" }, cluster = users }
                    { match { path-prefix = "/x" }, cluster = usrs }
                  ]
                }
                """);
        BulwarkProcess p = BulwarkProcess.runToEnd("validate", "--config", config.toString());
        assertThat(p.exitCode()).isEqualTo(2);
        assertThat(p.stderr()).anyMatch(l -> l.startsWith("bulwark.listener.port: 70000"));
        assertThat(p.stderr()).anyMatch(l -> l.startsWith("bulwark.listener.prot: ") && l.contains("\"port\""));
        assertThat(p.stderr()).anyMatch(l -> l.startsWith("bulwark.clusters.users.load-balancer: ")
                && l.contains("round-robin"));
        assertThat(p.stderr()).contains(
                "bulwark.routes[1].cluster: unknown cluster \"usrs\" (did you mean \"users\"?)");
        assertThat(String.join("\n", p.stderr())).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void runWithABadConfigExitsTwoWithoutStarting() throws Exception {
        Path config = write("bad.conf", "bulwark { listener { port = 0 } }");
        BulwarkProcess p = BulwarkProcess.runToEnd("run", "--config", config.toString());
        assertThat(p.exitCode()).isEqualTo(2);
        assertThat(p.stderr()).anyMatch(l -> l.startsWith("bulwark.listener.port: "));
    }

    @Test
    void adminOnANonLoopbackHostWithoutATokenIsRefused() throws Exception {
        Path config = write("open-admin.conf", """
                bulwark {
                  listener { port = 8080 }
                  admin { host = "0.0.0.0" }
                  clusters { users { endpoints = [ "127.0.0.1:9001" ] } }
                  routes = [ { match { path-prefix = "/" }, cluster = users } ]
                }
                """);
        BulwarkProcess p = BulwarkProcess.runToEnd("run", "--config", config.toString());
        assertThat(p.exitCode()).isEqualTo(2);
        assertThat(p.stderr()).anyMatch(l -> l.startsWith("bulwark.admin.token: "));
    }

    @Test
    void aMissingConfigFileIsAClearErrorWithExitTwo() throws Exception {
        BulwarkProcess p = BulwarkProcess.runToEnd("validate", "--config", dir.resolve("nope.conf").toString());
        assertThat(p.exitCode()).isEqualTo(2);
        assertThat(String.join("\n", p.stderr())).contains("nope.conf").doesNotContain("\tat ");
    }

    @Test
    void badArgumentsPrintUsageAndExitTwo() throws Exception {
        BulwarkProcess unknown = BulwarkProcess.runToEnd("frobnicate");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.stderr()).anyMatch(l -> l.contains("unknown command \"frobnicate\""));
        assertThat(unknown.stderr()).anyMatch(l -> l.startsWith("Usage:"));

        BulwarkProcess noConfig = BulwarkProcess.runToEnd("run");
        assertThat(noConfig.exitCode()).isEqualTo(2);
        assertThat(noConfig.stderr()).anyMatch(l -> l.contains("--config FILE is required"));

        BulwarkProcess none = BulwarkProcess.runToEnd();
        assertThat(none.exitCode()).isEqualTo(2);

        BulwarkProcess notAUrl = BulwarkProcess.runToEnd("health", "--url", "notaurl");
        assertThat(notAUrl.exitCode()).isEqualTo(2);
        assertThat(notAUrl.stderr()).anyMatch(l -> l.contains("--url must be an absolute http:// or https:// URL"));
    }

    @Test
    void aTakenPortIsAFatalErrorWithExitOne() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50,
                java.net.InetAddress.getLoopbackAddress())) {
            Path config = write("taken.conf", """
                    bulwark {
                      listener { host = "127.0.0.1", port = %d }
                      admin { port = %d }
                      clusters { users { endpoints = [ "127.0.0.1:9001" ] } }
                      routes = [ { match { path-prefix = "/" }, cluster = users } ]
                    }
                    """.formatted(taken.getLocalPort(), Ports.free()));
            BulwarkProcess p = BulwarkProcess.runToEnd("run", "--config", config.toString());
            assertThat(p.exitCode()).isEqualTo(1);
            assertThat(String.join("\n", p.stderr())).contains("cannot listen").doesNotContain("\tat ");
        }
    }
}
