package io.bulwark.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator console in a real headless Chromium, against the built jar with three real
 * upstreams: it loads without console errors, shows every upstream, follows an ejection within
 * two seconds, and a drain clicked in the page really stops traffic to that upstream (counted on
 * the upstream) until a restore clicked in the page brings it back. Takes the README's screenshots
 * on the way ({@code -Dbulwark.screenshots=DIR}, default {@code target/console-screenshots}).
 */
@ExtendWith(RequiresChromium.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserTest {

    private static final String TOKEN = "console-test-token";
    private static final String CLUSTER = "app";

    /** Static: a PER_CLASS instance's {@code @TempDir} field is not set yet in {@code @BeforeAll}. */
    @TempDir
    static Path dir;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
    private final TestUpstream[] upstreams = new TestUpstream[3];
    private BulwarkProcess bulwark;
    private ChromeDriverService service;
    private ChromeDriver driver;
    private int port;
    private int adminPort;

    @BeforeAll
    void start() throws Exception {
        for (int i = 0; i < upstreams.length; i++) {
            upstreams[i] = TestUpstream.start("u" + i, TestUpstream.echo("u" + i));
        }
        port = Ports.free();
        adminPort = Ports.free();
        Path config = dir.resolve("bulwark.conf");
        Files.writeString(config, """
                bulwark {
                  listener { host = "127.0.0.1", port = %d }
                  admin { host = "127.0.0.1", port = %d, token = "%s" }
                  clusters {
                    app {
                      endpoints = [ "%s", "%s", "%s" ]
                      outlier-detection { consecutive-5xx = 3, max-ejection-percent = 50, base-ejection-time = 60s }
                    }
                  }
                  routes = [ { name = app-route, match { path-prefix = "/" }, cluster = app } ]
                }
                """.formatted(port, adminPort, TOKEN, upstreams[0].address(), upstreams[1].address(),
                upstreams[2].address()));
        bulwark = BulwarkProcess.start("run", "--config", config.toString());
        bulwark.awaitReady(adminPort, Duration.ofSeconds(30));

        service = new ChromeDriverService.Builder().usingDriverExecutable(RequiresChromium.chromedriver().toFile())
                .usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(RequiresChromium.chromium().toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1440,1100", "--disable-extensions", "--no-first-run");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        driver = new ChromeDriver(service, options);
    }

    @AfterAll
    void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (service != null) {
            service.stop();
        }
        if (bulwark != null) {
            bulwark.close();
        }
        for (TestUpstream u : upstreams) {
            if (u != null) {
                u.close();
            }
        }
    }

    /** Every upstream answering, active, without override or ejection, and a fresh tab session. */
    @BeforeEach
    void reset() throws Exception {
        for (TestUpstream u : upstreams) {
            u.behaviour(TestUpstream.echo(u.name()));
            String path = upstreamPath(u);
            JsonNode state = upstream(u);
            if (!state.get("admin").asText().equals("active")) {
                admin("POST", path + "/restore", null);
            }
            if (!state.get("outlier").isNull()) {
                admin("POST", path + "/uneject", null);
            }
            if (!state.get("override").asText().equals("none")) {
                admin("PUT", path + "/health", "{\"override\":\"none\"}");
            }
            if (state.get("weight").asInt() != 1) {
                admin("PUT", path + "/weight", "{\"weight\":1}");
            }
        }
        if (json.readTree(admin("GET", "/api/v1/routes/app-route/fault", null).body()).get("active").asBoolean()) {
            admin("PUT", "/api/v1/routes/app-route/fault", "{}");
        }
        // A page of the same origin without the console's script, so no poll races the clearing.
        driver.get(adminUrl() + "/live");
        driver.executeScript("sessionStorage.clear()");
        driver.manage().logs().get(LogType.BROWSER); // drop what earlier tests logged
    }

    // ---- the scenarios ----

    @Test
    void loadsWithoutConsoleErrorsAndShowsThreeUpstreams() throws Exception {
        login(TOKEN);

        for (TestUpstream u : upstreams) {
            await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(u).contains("eligible"));
        }
        assertThat(driver.findElements(By.cssSelector("tr.upstream"))).hasSize(3);
        assertThat(text(By.cssSelector(".cluster h3"))).contains("3 of 3 eligible").contains("circuit closed");
        assertThat(text(By.id("routes"))).contains("app-route");
        Thread.sleep(2500); // a few polls, each of which could log an error
        screenshot("console-healthy.png");

        assertThat(severe(driver.manage().logs().get(LogType.BROWSER).getAll())).isEmpty();
        assertThat(driver.getCurrentUrl()).doesNotContain(TOKEN);
        assertThat(driver.manage().getCookies()).isEmpty();
        assertThat(driver.executeScript("return sessionStorage.getItem('bulwark.admin.token')")).isEqualTo(TOKEN);
    }

    @Test
    void aWrongTokenIsRefusedWithTheApisMessage() {
        login("not-the-token");

        await().atMost(Duration.ofSeconds(5)).until(() -> text(By.id("login-error")).contains("Refused"));
        assertThat(text(By.id("login-error")))
                .isEqualTo("Refused: this call needs \"Authorization: Bearer <token>\"");
        assertThat(driver.findElement(By.id("app")).isDisplayed()).isFalse();
        assertThat(driver.executeScript("return sessionStorage.getItem('bulwark.admin.token')")).isNull();
        // The only errors are the refused call itself.
        assertThat(severe(driver.manage().logs().get(LogType.BROWSER).getAll()))
                .allMatch(e -> e.getMessage().contains("401"));
    }

    @Test
    void anEjectionShowsWithinTwoSecondsWithItsTimeline() throws Exception {
        login(TOKEN);
        TestUpstream failing = upstreams[1];
        await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(failing).contains("eligible"));
        failing.behaviour((request, bodyBytes) -> TestUpstream.Reply.status(500));

        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (upstream(failing).get("outlier").isNull()) {
            assertThat(System.nanoTime()).as("ejected within 20 s").isLessThan(deadline);
            proxyGet();
        }
        long ejectedSeen = System.nanoTime();

        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                .until(() -> stateOf(failing).contains("ejected"));
        long shownAfterMs = (System.nanoTime() - ejectedSeen) / 1_000_000;
        System.out.println("console showed the ejection " + shownAfterMs + " ms after the API did");
        assertThat(text(row(failing), ".outlier")).contains("consecutive_5xx").contains("left");
        assertThat(text(By.cssSelector(".cluster h3"))).contains("2 of 3 eligible");
        await().atMost(Duration.ofSeconds(3)).until(() -> text(timeline(failing)).contains("detected in"));
        assertThat(text(timeline(failing))).contains("consecutive_5xx").contains("in episode").contains("so far");
        await().atMost(Duration.ofSeconds(3)).until(() -> text(By.id("events")).contains("ejected"));
        screenshot("console-ejected.png");
        assertThat(severe(driver.manage().logs().get(LogType.BROWSER).getAll())).isEmpty();
    }

    @Test
    void aDrainClickedInThePageStopsTrafficAndARestoreBringsItBack() throws Exception {
        login(TOKEN);
        TestUpstream drained = upstreams[2];
        await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(drained).contains("eligible"));

        click(drained, "drain");
        WebElement dialog = driver.findElement(By.id("confirm"));
        await().atMost(Duration.ofSeconds(2)).until(dialog::isDisplayed);
        assertThat(text(By.id("confirm-effect"))).contains("This leaves 2 of 3 upstreams eligible in cluster app");
        driver.findElement(By.id("f-note")).sendKeys("browser test");
        screenshot("console-drain-dialog.png");
        driver.findElement(By.id("confirm-ok")).click();

        await().atMost(Duration.ofSeconds(3)).until(() -> !dialog.isDisplayed());
        await().atMost(Duration.ofSeconds(3)).until(() -> stateOf(drained).matches("(?s).*\\bdrain(ing|ed)\\b.*"));
        assertThat(upstream(drained).get("admin").asText()).isIn("draining", "drained");
        await().atMost(Duration.ofSeconds(3)).until(() -> text(By.id("events")).contains("browser test"));

        int before = drained.requests();
        int othersBefore = upstreams[0].requests() + upstreams[1].requests();
        for (int i = 0; i < 30; i++) {
            assertThat(proxyGet()).isEqualTo(200);
        }
        assertThat(drained.requests()).as("requests reaching the drained upstream").isEqualTo(before);
        assertThat(upstreams[0].requests() + upstreams[1].requests()).isEqualTo(othersBefore + 30);
        await().atMost(Duration.ofSeconds(3)).until(() -> stateOf(drained).contains("drained"));

        click(drained, "restore");
        await().atMost(Duration.ofSeconds(2)).until(dialog::isDisplayed);
        assertThat(text(By.id("confirm-effect"))).contains("This leaves 3 of 3 upstreams eligible");
        driver.findElement(By.id("confirm-ok")).click();
        await().atMost(Duration.ofSeconds(3)).until(() -> stateOf(drained).contains("eligible"));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            proxyGet();
            return drained.requests() > before;
        });
        assertThat(severe(driver.manage().logs().get(LogType.BROWSER).getAll())).isEmpty();
    }

    @Test
    void drainingTheLastEligibleUpstreamShowsTheApisRefusal() throws Exception {
        admin("POST", upstreamPath(upstreams[0]) + "/drain", null);
        admin("POST", upstreamPath(upstreams[1]) + "/drain", null);
        login(TOKEN);
        TestUpstream last = upstreams[2];
        await().atMost(Duration.ofSeconds(5)).until(() -> text(By.cssSelector(".cluster h3")).contains("1 of 3 eligible"));

        click(last, "drain");
        assertThat(text(By.id("confirm-effect"))).contains("This leaves 0 of 3 upstreams eligible")
                .contains("fails with 503");
        driver.findElement(By.id("confirm-ok")).click();

        await().atMost(Duration.ofSeconds(3)).until(() -> !text(By.id("confirm-error")).isEmpty());
        assertThat(text(By.id("confirm-error"))).startsWith("409: ").contains("is the last eligible upstream of app");
        assertThat(upstream(last).get("admin").asText()).isEqualTo("active");
        driver.findElement(By.id("confirm-cancel")).click();
    }

    @Test
    void aWeightAndAnOverrideWithATtlShowTheirShareAndTimeLeft() throws Exception {
        login(TOKEN);
        TestUpstream heavy = upstreams[0];
        await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(heavy).contains("eligible"));

        click(heavy, "weight");
        WebElement weight = driver.findElement(By.id("f-weight"));
        weight.clear();
        weight.sendKeys("3");
        await().atMost(Duration.ofSeconds(2)).until(() -> text(By.id("confirm-effect")).contains("about 60%"));
        driver.findElement(By.id("f-ttl")).sendKeys("10m");
        driver.findElement(By.id("confirm-ok")).click();

        await().atMost(Duration.ofSeconds(3)).until(() -> text(row(heavy), ".weight").contains("(60%)"));
        assertThat(text(row(heavy), ".weight")).contains("config 1").contains("back in 10 min");
        assertThat(upstream(heavy).get("weight").asInt()).isEqualTo(3);

        TestUpstream sick = upstreams[1];
        click(sick, "override");
        driver.findElement(By.cssSelector("#f-override option[value='unhealthy']")).click();
        assertThat(text(By.id("confirm-effect"))).contains("This leaves 2 of 3 upstreams eligible");
        driver.findElement(By.id("f-ttl")).sendKeys("30s");
        driver.findElement(By.id("confirm-ok")).click();

        await().atMost(Duration.ofSeconds(3)).until(() -> stateOf(sick).contains("forced unhealthy"));
        assertThat(text(row(sick), ".override")).contains("forced unhealthy").containsPattern("\\d+(\\.\\d)? s left");
        assertThat(stateOf(sick)).contains("override_unhealthy");
    }

    @Test
    void faultInjectionIsSwitchedOnAndOffFromTheRouteTable() throws Exception {
        login(TOKEN);
        By faultCell = By.cssSelector("tr.route[data-route='app-route'] .fault");
        await().atMost(Duration.ofSeconds(5)).until(() -> text(faultCell).contains("off"));

        retryStale(() -> {
            driver.findElement(faultCell).findElement(By.cssSelector("button[data-action='fault']")).click();
            return null;
        });
        await().atMost(Duration.ofSeconds(2)).until(() -> driver.findElement(By.id("confirm")).isDisplayed());
        WebElement abort = driver.findElement(By.id("f-abort"));
        abort.clear();
        abort.sendKeys("100");
        driver.findElement(By.id("confirm-ok")).click();

        await().atMost(Duration.ofSeconds(3)).until(() -> text(faultCell).contains("ON"));
        assertThat(text(faultCell)).contains("abort 100% (503)");
        assertThat(proxyGet()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(3)).until(() -> text(By.id("events")).contains("fault"));

        retryStale(() -> {
            driver.findElement(faultCell).findElement(By.cssSelector("button[data-action='fault']")).click();
            return null;
        });
        await().atMost(Duration.ofSeconds(2)).until(() -> driver.findElement(By.id("confirm")).isDisplayed());
        assertThat(text(By.id("confirm-effect"))).contains("Turn off");
        driver.findElement(By.id("confirm-ok")).click();

        await().atMost(Duration.ofSeconds(3)).until(() -> text(faultCell).contains("off"));
        assertThat(proxyGet()).isEqualTo(200);
        assertThat(severe(driver.manage().logs().get(LogType.BROWSER).getAll())).isEmpty();
    }

    // ---- the page ----

    private void login(String token) {
        driver.get(adminUrl() + "/");
        WebElement input = driver.findElement(By.id("token"));
        await().atMost(Duration.ofSeconds(5)).until(input::isDisplayed);
        input.sendKeys(token);
        driver.findElement(By.id("connect")).click();
    }

    private By row(TestUpstream u) {
        return By.cssSelector("tr.upstream[data-address='" + u.address() + "']");
    }

    private By timeline(TestUpstream u) {
        return By.cssSelector(".upstream-timeline[data-address='" + u.address() + "']");
    }

    private String stateOf(TestUpstream u) {
        return text(row(u), ".state");
    }

    /** The element's text, retried when a poll re-renders it between finding and reading. */
    private String text(By by) {
        return retryStale(() -> driver.findElements(by).stream().findFirst().map(WebElement::getText).orElse(""));
    }

    private String text(By row, String cell) {
        return retryStale(() -> driver.findElements(row).stream().findFirst()
                .map(r -> r.findElement(By.cssSelector(cell)).getText()).orElse(""));
    }

    private void click(TestUpstream u, String action) {
        retryStale(() -> {
            driver.findElement(row(u)).findElement(By.cssSelector("button[data-action='" + action + "']")).click();
            return null;
        });
        await().atMost(Duration.ofSeconds(2)).until(() -> driver.findElement(By.id("confirm")).isDisplayed());
    }

    private static <T> T retryStale(Supplier<T> read) {
        for (int i = 0; ; i++) {
            try {
                return read.get();
            } catch (StaleElementReferenceException e) {
                if (i == 5) {
                    throw e;
                }
            }
        }
    }

    private static List<LogEntry> severe(List<LogEntry> entries) {
        return entries.stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).toList();
    }

    private void screenshot(String name) throws Exception {
        Path target = Path.of(System.getProperty("bulwark.screenshots", "target/console-screenshots"));
        Files.createDirectories(target);
        Files.write(target.resolve(name), driver.getScreenshotAs(OutputType.BYTES));
    }

    // ---- the proxy and its admin API, over plain HTTP ----

    private String adminUrl() {
        return "http://127.0.0.1:" + adminPort;
    }

    private static String upstreamPath(TestUpstream u) {
        return "/api/v1/clusters/" + CLUSTER + "/upstreams/" + u.address();
    }

    private JsonNode upstream(TestUpstream u) throws Exception {
        return json.readTree(admin("GET", upstreamPath(u), null).body());
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(adminUrl() + path))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private int proxyGet() throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
