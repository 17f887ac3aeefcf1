package io.bulwark.admin;

import io.bulwark.routing.ManualClock;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bulwark.admin.AdminServer.AdminResponse;
import io.bulwark.routing.Upstream;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.file.Path;

/**
 * An {@link AdminApi} over a {@link TestProxyControl}, with a manual clock and scheduler and a
 * real {@link EventLog} as both event log and event sink, as the proxy wires it.
 */
final class AdminFixture {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int EVENT_CAPACITY = 50;

    final ManualClock clock;
    final ManualScheduler scheduler;
    final EventLog events;
    final TestProxyControl proxy;
    final OperatorStateFile stateFile;
    final AdminApi api;

    AdminFixture() {
        this(new ManualClock(), TestProxyControl.CONFIG, null);
    }

    /** @param stateFile the {@code admin.state-file}, or null for none */
    AdminFixture(ManualClock clock, String config, Path stateFile) {
        this(clock, config, stateFile, null);
    }

    /** @param fleet fleet mode's side, or null for a single process */
    AdminFixture(ManualClock clock, String config, Path stateFile, FleetControl fleet) {
        this.clock = clock;
        this.scheduler = new ManualScheduler(clock);
        this.events = new EventLog(EVENT_CAPACITY);
        this.proxy = new TestProxyControl(config, clock, events);
        this.stateFile = stateFile == null ? null : new OperatorStateFile(stateFile, clock, events, scheduler);
        this.api = new AdminApi(proxy, events, events, clock, scheduler, this.stateFile, fleet);
    }

    /** A call's answer: the status and the parsed JSON body. */
    record Answer(int status, JsonNode json) {
        String error() {
            return json.path("error").asText(null);
        }
    }

    /** Calls the API as the admin server would; null when the API does not serve the path (the server's 404). */
    Answer call(String method, String uri, String body) {
        QueryStringDecoder query = new QueryStringDecoder(uri);
        AdminResponse r = api.handle(HttpMethod.valueOf(method), query.path(), query, body == null ? "" : body);
        if (r == null) {
            return null;
        }
        try {
            return new Answer(r.status(), JSON.readTree(r.json()));
        } catch (JsonProcessingException e) {
            throw new AssertionError("the admin API answered invalid JSON: " + r.json(), e);
        }
    }

    Answer get(String uri) {
        return call("GET", uri, null);
    }

    static String upstreamPath(String cluster, String address) {
        return "/api/v1/clusters/" + cluster + "/upstreams/" + address;
    }

    Upstream upstream(String cluster, String address) {
        return proxy.upstream(cluster, address);
    }
}
