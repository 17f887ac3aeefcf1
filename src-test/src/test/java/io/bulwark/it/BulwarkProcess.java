package io.bulwark.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The built {@code proxy/target/bulwark.jar} run as a separate process, as an operator runs it.
 * Its stdout and stderr are collected line by line for assertions.
 */
final class BulwarkProcess implements AutoCloseable {

    private final Process process;
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();

    private BulwarkProcess(Process process) {
        this.process = process;
        pump(process.getInputStream(), stdout);
        pump(process.getErrorStream(), stderr);
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("bulwark.jar", "../proxy/target/bulwark.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("build the jar first (mvn package): " + jar.toAbsolutePath());
        }
        return jar;
    }

    static BulwarkProcess start(String... args) throws IOException {
        return start(List.of(), args);
    }

    /** With extra JVM options before {@code -jar}, e.g. a system property. */
    static BulwarkProcess startWithJvmOptions(List<String> jvmOptions, String... args) throws IOException {
        return start(List.of(), jvmOptions, args);
    }

    /**
     * Starts it with SIGHUP ignored, as {@code nohup} does: a shell ignores the signal and then
     * becomes the JVM ({@code exec}), which inherits the ignored disposition.
     */
    static BulwarkProcess startWithSighupIgnored(String... args) throws IOException {
        return start(List.of("/bin/sh", "-c", "trap '' HUP; exec \"$0\" \"$@\""), args);
    }

    private static BulwarkProcess start(List<String> wrapper, String... args) throws IOException {
        return start(wrapper, List.of(), args);
    }

    private static BulwarkProcess start(List<String> wrapper, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx128m");
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar().toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("BULWARK_ADMIN_TOKEN");
        return new BulwarkProcess(pb.start());
    }

    /** Sends a signal by name (e.g. {@code HUP}) with kill(1). */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Runs a command to completion and returns its exit code (output kept for assertions). */
    static BulwarkProcess runToEnd(String... args) throws IOException, InterruptedException {
        return runToEnd(List.of(), args);
    }

    /** {@link #runToEnd(String...)} with extra JVM options before {@code -jar}. */
    static BulwarkProcess runToEnd(List<String> jvmOptions, String... args) throws IOException, InterruptedException {
        BulwarkProcess p = start(List.of(), jvmOptions, args);
        if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
            p.process.destroyForcibly();
            throw new AssertionError("bulwark " + String.join(" ", args) + " did not finish");
        }
        p.awaitOutputDrained();
        return p;
    }

    private static void pump(java.io.InputStream in, List<String> sink) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    sink.add(line);
                }
            } catch (IOException ignored) {
                // process ended
            }
        }, "bulwark-output");
        t.setDaemon(true);
        t.start();
    }

    private void awaitOutputDrained() throws InterruptedException {
        Thread.sleep(200); // the pump threads read to EOF right after exit
    }

    /** Waits until {@code GET http://127.0.0.1:adminPort/ready} answers 200. */
    void awaitReady(int adminPort, Duration timeout) throws InterruptedException {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("bulwark exited with " + process.exitValue() + ":\n" + output());
            }
            try {
                HttpResponse<Void> r = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + adminPort + "/ready")).timeout(Duration.ofSeconds(1))
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("bulwark not ready within " + timeout + ":\n" + output());
    }

    /**
     * SIGTERM, as {@code docker stop} and Kubernetes send it. Through the process handle, because
     * {@link Process#destroy()} also closes our ends of its stdout and stderr pipes, which would
     * lose everything the process prints while it drains.
     */
    void terminate() {
        process.toHandle().destroy();
    }

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("bulwark did not exit within " + timeout + ":\n" + output());
        }
        awaitOutputDrained();
        return process.exitValue();
    }

    int exitCode() {
        return process.exitValue();
    }

    List<String> stdout() {
        return stdout;
    }

    List<String> stderr() {
        return stderr;
    }

    String output() {
        return "stdout:\n" + String.join("\n", stdout) + "\nstderr:\n" + String.join("\n", stderr);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
