package io.bulwark.proxy;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.config.ConfigProblem;
import io.bulwark.config.ConfigValidationException;
import io.bulwark.proxy.demo.DemoUpstreams;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The command line: {@code run --config FILE}, {@code validate --config FILE}, {@code demo} and
 * {@code health [--url URL]} (README, "Running with your own config"). Exit codes: 0 normal stop,
 * 2 bad configuration or arguments, 1 anything else. A user error is one clear message, never a
 * stack trace.
 */
public final class Main {

    static final int OK = 0;
    static final int FATAL = 1;
    static final int USAGE = 2;

    private static final String NETTY_JFR = "io.netty.jfr.enabled";

    private static final String USAGE_TEXT = """
            Usage: java -jar bulwark.jar <command> [options]

            Commands:
              run --config FILE        start the proxy on a HOCON config file
              validate --config FILE   check a config file; prints OK or one line per problem
              demo [--port N] [--admin-port N]
                                       start the proxy with three built-in demo upstreams
              health [--url URL]       exit 0 if the admin /ready answers 200 (for container
                                       health checks; default http://127.0.0.1:9901/ready)
              help                     show this text
            """;

    private Main() {
    }

    public static void main(String[] args) {
        // Netty registers JFR events for its buffer allocator on first use, and that loads JFR's
        // metadata: about a tenth of the start-up CPU, for events nothing records unless asked.
        // -Dio.netty.jfr.enabled=true turns them back on. Set before any Netty class loads.
        if (System.getProperty(NETTY_JFR) == null) {
            System.setProperty(NETTY_JFR, "false");
        }
        if (args.length > 0 && (args[0].equals("run") || args[0].equals("demo"))) {
            // Logging first, on this thread (configured in code, LogSetup: a few milliseconds): had
            // another thread logged while it was being set up, SLF4J would print a "replayed
            // calls" warning on every start.
            org.slf4j.LoggerFactory.getILoggerFactory();
            warmUpInBackground();
        }
        int code = run(args, System.out, System.err);
        if (code != OK) {
            System.exit(code);
        }
    }

    /**
     * Begins, on another core, a piece of start-up the main thread would otherwise do once the
     * config is parsed: loading Netty's native epoll transport (unpacked from the jar and linked).
     * A once-per-process initialisation that other threads wait for if they get there first, so
     * nothing runs twice; a failure here is met again, and reported, where it is used.
     */
    private static void warmUpInBackground() {
        Thread warmUp = new Thread(() -> {
            try {
                io.bulwark.proxy.transport.Transport.best();
            } catch (RuntimeException | LinkageError e) {
                // the main thread meets the same problem where it needs the logger or the transport
            }
        }, "bulwark-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
    }

    /** Runs a command; returns its exit code. {@code run} and {@code demo} block until stopped. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(USAGE_TEXT);
            return USAGE;
        }
        List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
        try {
            return switch (args[0]) {
                case "run" -> runProxy(requireConfig(rest), out, err);
                case "validate" -> validate(requireConfig(rest), out, err);
                case "demo" -> demo(rest, out, err);
                case "health" -> health(rest, out, err);
                case "help", "--help", "-h" -> {
                    out.print(USAGE_TEXT);
                    yield OK;
                }
                default -> throw new UsageException("unknown command \"" + args[0] + "\"");
            };
        } catch (UsageException e) {
            err.println("bulwark: " + e.getMessage());
            err.print(USAGE_TEXT);
            return USAGE;
        }
    }

    private static Path requireConfig(List<String> args) {
        Path config = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--config") || a.equals("-c")) {
                if (i + 1 >= args.size()) {
                    throw new UsageException("--config needs a file");
                }
                config = Path.of(args.get(++i));
            } else if (a.startsWith("--config=")) {
                config = Path.of(a.substring("--config=".length()));
            } else {
                throw new UsageException("unexpected argument \"" + a + "\"");
            }
        }
        if (config == null) {
            throw new UsageException("--config FILE is required");
        }
        return config;
    }

    private static int validate(Path file, PrintStream out, PrintStream err) {
        try {
            ConfigLoader.load(file);
            out.println("OK");
            return OK;
        } catch (ConfigValidationException e) {
            printProblems(e, err);
            return USAGE;
        }
    }

    private static void printProblems(ConfigValidationException e, PrintStream err) {
        for (ConfigProblem p : e.problems()) {
            err.println(p);
        }
    }

    private static int runProxy(Path file, PrintStream out, PrintStream err) {
        BulwarkConfig config;
        try {
            config = ConfigLoader.load(file);
        } catch (ConfigValidationException e) {
            printProblems(e, err);
            return USAGE;
        }
        return serve(config, file, null, err);
    }

    private static int demo(List<String> args, PrintStream out, PrintStream err) {
        int port = 8080;
        int adminPort = 9901;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if ((a.equals("--port") || a.equals("--admin-port")) && i + 1 < args.size()) {
                int value = parsePort(a, args.get(++i));
                if (a.equals("--port")) {
                    port = value;
                } else {
                    adminPort = value;
                }
            } else {
                throw new UsageException("unexpected argument \"" + a + "\"");
            }
        }
        DemoUpstreams upstreams;
        try {
            upstreams = startDemoUpstreams();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FATAL;
        }
        BulwarkConfig config;
        try {
            config = ConfigLoader.parse(upstreams.demoConfig(port, adminPort));
        } catch (ConfigValidationException e) {
            printProblems(e, err);
            upstreams.close();
            return FATAL; // the built-in config is ours: a problem in it is a bug, not a user error
        }
        int proxyPort = port;
        int adminPortFinal = adminPort;
        return serve(config, null, () -> {
            out.println();
            out.println("Bulwark demo is running.");
            out.println("  proxy:  http://127.0.0.1:" + proxyPort + "/");
            out.println("  admin:  http://127.0.0.1:" + adminPortFinal + "/ready  (metrics at /metrics)");
            out.println("  console: http://127.0.0.1:" + adminPortFinal + "/  (open it in a browser; no token in the demo)");
            out.println("  upstreams: healthy :" + upstreams.healthyPort() + ", slow :" + upstreams.slowPort()
                    + ", flaky :" + upstreams.flakyPort());
            out.println();
            out.println("Try:");
            out.println("  curl -i http://127.0.0.1:" + proxyPort + "/healthy/hello");
            out.println("  curl -i http://127.0.0.1:" + proxyPort + "/slow/x?delay=2500     # 504 after the 2s route timeout");
            out.println("  for i in $(seq 9); do curl -s http://127.0.0.1:" + proxyPort
                    + "/anything; echo; done   # flaky 503s are retried on other upstreams");
            out.println("  curl -s http://127.0.0.1:" + adminPortFinal + "/metrics | grep bulwark_");
            out.println();
            out.println("Admin API (the README's examples, on this demo's cluster \"demo\" and route \"demo\"):");
            String admin = "http://127.0.0.1:" + adminPortFinal + "/api/v1";
            String flaky = admin + "/clusters/demo/upstreams/127.0.0.1:" + upstreams.flakyPort();
            String healthy = admin + "/clusters/demo/upstreams/127.0.0.1:" + upstreams.healthyPort();
            out.println("  curl -s " + admin + "/clusters/demo");
            out.println("  for i in $(seq 12); do curl -s -o /dev/null 'http://127.0.0.1:" + proxyPort
                    + "/?fail=503'; done   # flaky fails 3 in a row: ejected");
            out.println("  curl -s " + flaky + "            # why it gets no traffic");
            out.println("  curl -s -X POST '" + healthy + "/drain?ttl=10m'");
            out.println("  curl -s -X POST " + healthy + "/restore");
            out.println("  curl -s -X PUT " + admin + "/routes/demo/fault -d '{\"abort\":{\"percent\":50,\"status\":503}}'");
            out.println("  curl -s -X PUT " + admin + "/routes/demo/fault -d '{}'          # faults off again");
            out.println("  curl -s '" + admin + "/events?limit=20'");
            out.println();
            out.println("Stop with Ctrl-C.");
        }, err, upstreams);
    }

    /** The demo's upstream ports, as the README's examples use them; others are taken when these are. */
    static final int[] DEMO_UPSTREAM_PORTS = {9001, 9002, 9003};

    private static DemoUpstreams startDemoUpstreams() throws InterruptedException {
        try {
            return DemoUpstreams.start(DEMO_UPSTREAM_PORTS[0], DEMO_UPSTREAM_PORTS[1], DEMO_UPSTREAM_PORTS[2]);
        } catch (IllegalStateException taken) {
            return DemoUpstreams.start(0, 0, 0); // the ports it prints are then the ones to use
        }
    }

    /**
     * A container health check that needs no curl in the image: GET the admin readiness URL,
     * exit 0 on 200 and 1 otherwise.
     */
    private static int health(List<String> args, PrintStream out, PrintStream err) {
        String url = "http://127.0.0.1:9901/ready";
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("--url") && i + 1 < args.size()) {
                url = args.get(++i);
            } else {
                throw new UsageException("unexpected argument \"" + args.get(i) + "\"");
            }
        }
        java.net.URI uri;
        try {
            uri = java.net.URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--url is not a URL: " + url);
        }
        if (!uri.isAbsolute() || uri.getHost() == null
                || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
            throw new UsageException("--url must be an absolute http:// or https:// URL: " + url);
        }
        try {
            java.net.HttpURLConnection c = (java.net.HttpURLConnection) uri.toURL().openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(2000);
            int status = c.getResponseCode();
            out.println(url + " -> " + status);
            return status == 200 ? OK : FATAL;
        } catch (java.io.IOException | IllegalArgumentException e) {
            err.println("bulwark: " + url + " unreachable: " + e.getMessage());
            return FATAL;
        }
    }

    private static int parsePort(String flag, String value) {
        try {
            int p = Integer.parseInt(value);
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " needs a port number 1..65535, got \"" + value + "\"");
        }
    }

    private static int serve(BulwarkConfig config, Path configFile, Runnable onStarted, PrintStream err,
                             AutoCloseable... extras) {
        Bulwark bulwark;
        try {
            bulwark = Bulwark.start(config, configFile, io.bulwark.routing.Cluster.Resolver.SYSTEM);
        } catch (Bulwark.ListenException e) {
            err.println("bulwark: " + e.getMessage());
            closeAll(extras);
            return FATAL;
        } catch (io.bulwark.proxy.tls.TlsConfigException e) {
            // A TLS setting this machine cannot honour (provider = openssl without the native
            // library, a certificate that does not load) is a config error like any other.
            err.println(e.getMessage());
            closeAll(extras);
            return USAGE;
        } catch (Exception e) {
            err.println("bulwark: failed to start: " + e);
            closeAll(extras);
            return FATAL;
        }
        if (onStarted != null) {
            onStarted.run();
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runnable stop = () -> {
            try {
                bulwark.shutdown();
                closeAll(extras);
                flushLogs();
            } finally {
                stopped.countDown(); // whatever went wrong while stopping, the process still exits
            }
        };
        Signals.onTerminate(stop);
        bulwark.sighupReloads(Signals.onHangup(() -> bulwark.reload("sighup")));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return OK;
    }

    /** Stops logback so the async access-log queue is written out before the JVM exits. */
    private static void flushLogs() {
        if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context) {
            context.stop();
        }
    }

    private static void closeAll(AutoCloseable... closeables) {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort on the way out
            }
        }
    }

    /** A bad command line. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }
}
