package io.bulwark.proxy.demo;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DemoUpstreamsTest {

    private static DemoUpstreams upstreams;
    private static HttpClient client;

    @BeforeAll
    static void start() throws InterruptedException {
        upstreams = DemoUpstreams.start(0, 0, 0);
        client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
    }

    @AfterAll
    static void stop() {
        upstreams.close();
    }

    @Test
    void healthyEchoesTheRequestAsJson() throws Exception {
        HttpResponse<String> response = client.send(
                HttpRequest.newBuilder(uri(upstreams.healthyPort(), "/users/42?x=1"))
                        .header("x-request-id", "req-1")
                        .header("x-bulwark-attempt", "2")
                        .POST(HttpRequest.BodyPublishers.ofString("hello"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(response.headers().firstValue("server")).hasValue("bulwark-demo");
        assertThat(response.headers().firstValueAsLong("content-length")).hasValue(response.body().length());
        assertThat(response.body())
                .startsWith("{\"upstream\":\"healthy\",\"port\":" + upstreams.healthyPort() + ",")
                .contains("\"method\":\"POST\"", "\"path\":\"/users/42\"", "\"query\":\"x=1\"",
                        "\"request_id\":\"req-1\"", "\"attempt\":\"2\"", "\"body_bytes\":5");
    }

    @Test
    void healthyReportsMissingHeadersAsNull() throws Exception {
        HttpResponse<String> response = get(upstreams.healthyPort(), "/plain");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"path\":\"/plain\"", "\"request_id\":null", "\"attempt\":null",
                "\"body_bytes\":0");
    }

    @Test
    void slowAnswersAfterTheDefaultDelay() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = get(upstreams.slowPort(), "/anything");
        long tookMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"upstream\":\"slow\"", "\"path\":\"/anything\"");
        assertThat(tookMillis).isGreaterThanOrEqualTo(DemoUpstream.DEFAULT_DELAY_MILLIS);
    }

    @Test
    void slowAnswersAfterTheRequestedDelay() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = get(upstreams.slowPort(), "/x?delay=700ms");
        long tookMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(tookMillis).isGreaterThanOrEqualTo(700);
    }

    @Test
    void slowRejectsAMalformedDelay() throws Exception {
        HttpResponse<String> response = get(upstreams.slowPort(), "/x?delay=soon");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("\"error\":\"bad delay");
    }

    @Test
    void flakyFailsEveryThirdRequest() throws Exception {
        // Other tests share the counter, so find where this test starts in the cycle of three.
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            statuses.add(get(upstreams.flakyPort(), "/f").statusCode());
        }

        int firstFailure = statuses.indexOf(503);
        assertThat(firstFailure).isBetween(0, 2);
        for (int i = 0; i < statuses.size(); i++) {
            assertThat(statuses.get(i)).as("request %d of %s", i, statuses)
                    .isEqualTo(i % 3 == firstFailure ? 503 : 200);
        }
    }

    @Test
    void flakyFailureHasAJsonBody() throws Exception {
        HttpResponse<String> response;
        do {
            response = get(upstreams.flakyPort(), "/f");
        } while (response.statusCode() != 503);

        assertThat(response.body()).isEqualTo("{\"upstream\":\"flaky\",\"error\":\"simulated failure\"}");
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    }

    @Test
    void flakyResetsTheConnectionOnRequest() {
        assertThatThrownBy(() -> get(upstreams.flakyPort(), "/?fail=reset")).isInstanceOf(IOException.class);
    }

    @Test
    void healthIsOkOnAllThree() throws Exception {
        for (int port : new int[] {upstreams.healthyPort(), upstreams.slowPort(), upstreams.flakyPort()}) {
            for (int i = 0; i < 4; i++) { // flaky never fails a health check, whatever its counter says
                HttpResponse<String> response = get(port, "/health");
                assertThat(response.statusCode()).as("port %d", port).isEqualTo(200);
                assertThat(response.body()).isEqualTo("{\"status\":\"ok\"}");
            }
        }
    }

    @Test
    void demoConfigHasEveryPlaceholderFilledAndParses() {
        String hocon = upstreams.demoConfig(18080, 19901);

        assertThat(hocon).doesNotContain("@");
        Config config = ConfigFactory.parseString(hocon).resolve();
        assertThat(config.getInt("bulwark.listener.port")).isEqualTo(18080);
        assertThat(config.getInt("bulwark.admin.port")).isEqualTo(19901);
        assertThat(config.getStringList("bulwark.clusters.demo.endpoints")).containsExactly(
                "127.0.0.1:" + upstreams.healthyPort(),
                "127.0.0.1:" + upstreams.slowPort(),
                "127.0.0.1:" + upstreams.flakyPort());
        assertThat(config.getConfigList("bulwark.routes")).extracting(c -> c.getString("name"))
                .containsExactly("healthy", "slow", "demo");
    }

    @Test
    void demoConfigPassesBulwarkValidation() throws Exception {
        BulwarkConfig config = ConfigLoader.parse(upstreams.demoConfig(18080, 19901));

        assertThat(config.clusters()).containsOnlyKeys("demo", "healthy", "slow");
        assertThat(config.routes()).extracting(r -> r.name()).containsExactly("healthy", "slow", "demo");
    }

    @Test
    void slowKeepsPipelinedRepliesInRequestOrder() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", upstreams.slowPort())) {
            socket.setSoTimeout(5000);
            // The first reply is due long after the second; HTTP/1.1 still requires it first.
            socket.getOutputStream().write((
                    "GET /first?delay=400 HTTP/1.1\r\nHost: demo\r\n\r\n"
                    + "GET /second?delay=0 HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String replies = readAll(socket.getInputStream());

            assertThat(replies).containsSubsequence("\"path\":\"/first\"", "\"path\":\"/second\"");
            assertThat(replies.split("HTTP/1.1 200 OK", -1)).hasSize(3);
        }
    }

    @Test
    void startFailsCleanlyWhenAPortIsTaken() {
        assertThatThrownBy(() -> DemoUpstreams.start(0, upstreams.slowPort(), 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("demo-slow cannot listen on 127.0.0.1:" + upstreams.slowPort());
    }

    private static HttpResponse<String> get(int port, String pathAndQuery) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(uri(port, pathAndQuery)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out); // the server closes after the Connection: close request
        return out.toString(StandardCharsets.UTF_8);
    }

    private static URI uri(int port, String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port + pathAndQuery);
    }
}
