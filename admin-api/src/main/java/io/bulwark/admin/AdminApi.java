package io.bulwark.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bulwark.admin.AdminServer.AdminResponse;
import io.bulwark.config.ConfigLoader;
import io.bulwark.config.ConfigProblem;
import io.bulwark.config.FaultConfig;
import java.util.Map;
import io.bulwark.routing.Clock;
import io.bulwark.routing.EventSink;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.Route;
import io.bulwark.routing.StateEvent;
import io.bulwark.routing.Upstream;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The operator endpoints under {@code /api/v1} (listed in the README, "Admin API"). Runs on the
 * admin event loop; the upstream state it changes is the same state the data plane reads (flags
 * on each upstream). Unknown cluster, upstream or route -> 404; a known endpoint with the wrong
 * method -> 405; a malformed body or parameter -> 400; draining the last eligible upstream without
 * {@code ?force=true} -> 409; a rejected reload -> 422. A path it does not serve gets null, which
 * the {@link AdminServer} answers 404.
 */
public final class AdminApi implements AdminServer.ApiHandler {

    private static final String PREFIX = "/api/v1/";

    private final ProxyControl proxy;
    private final EventLog events;
    private final OperatorActions actions;
    private final OperatorStateFile stateFile;
    private final Clock clock;
    private final ConsoleSummary summary;
    /** Fleet mode's side; null in single-process mode. */
    private final FleetControl fleet;

    /**
     * @param events the log {@code GET /api/v1/events} reads; a route's fault switch is written to it directly
     * @param sink where the upstream changes' events go (in the proxy: the event log, and metrics)
     * @param clock stamps every event and the deadlines of TTLs
     * @param timers runs the reverts of changes made with a TTL
     * @param stateFile persists operator overrides; null when {@code admin.state-file} is not set
     */
    public AdminApi(ProxyControl proxy, EventLog events, EventSink sink, Clock clock,
                    ScheduledExecutorService timers, OperatorStateFile stateFile) {
        this(proxy, events, sink, clock, timers, stateFile, null);
    }

    /** @param fleet fleet mode's Redis side ({@code ?scope=fleet}, {@code GET /api/v1/fleet}); null without a fleet */
    public AdminApi(ProxyControl proxy, EventLog events, EventSink sink, Clock clock,
                    ScheduledExecutorService timers, OperatorStateFile stateFile, FleetControl fleet) {
        this.fleet = fleet;
        this.proxy = proxy;
        this.events = events;
        this.stateFile = stateFile;
        this.clock = clock;
        this.actions = new OperatorActions(proxy, sink, clock, timers, stateFile);
        this.summary = new ConsoleSummary(proxy, events, actions, clock);
    }

    /** Re-applies the overrides saved in the state file (at start, before serving). */
    public void restoreState() {
        if (stateFile != null) {
            stateFile.restore(proxy.clusters(), actions);
        }
    }

    /** Where the fleet client hands the overrides and acknowledgements it hears from Redis. */
    public FleetControl.Listener fleetListener() {
        return new FleetControl.Listener() {
            @Override
            public void applied(FleetOverride entry) {
                actions.applyFleet(entry);
            }

            @Override
            public void removed(String cluster, String address, FleetOverride.Kind kind, String id, String origin) {
                actions.removeFleet(cluster, address, kind, id, origin);
            }

            @Override
            public void loaded(java.util.Collection<FleetOverride> all) {
                actions.replaceFleet(all);
            }

            @Override
            public void seen(String id, String member) {
                actions.seen(id, member);
            }

            @Override
            public List<FleetOverride> current() {
                return actions.fleetOverrides();
            }
        };
    }

    /** Applies fleet overrides to upstreams that appeared since they were set (reloads, DNS); cheap, run often. */
    public void reconcileFleet() {
        actions.reconcileFleet();
    }

    @Override
    public AdminResponse handle(HttpMethod method, String path, QueryStringDecoder query, String body) {
        if (!path.startsWith(PREFIX)) {
            return null;
        }
        String[] parts = path.substring(PREFIX.length()).split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            parts[i] = QueryStringDecoder.decodeComponent(parts[i]);
        }
        try {
            return dispatch(method, parts, query, body);
        } catch (BadRequest e) {
            return AdminResponse.error(400, "bad_request", e.getMessage());
        }
    }

    private AdminResponse dispatch(HttpMethod method, String[] p, QueryStringDecoder query, String body) {
        switch (p[0]) {
            case "routes":
                if (p.length == 1) {
                    return get(method, this::routes);
                }
                if (p.length == 3 && p[2].equals("fault")) {
                    Route route = proxy.routes().stream().filter(r -> r.name().equals(p[1])).findFirst()
                            .orElse(null);
                    if (route == null) {
                        return AdminResponse.error(404, "not_found", "no route " + p[1]);
                    }
                    if (method == HttpMethod.GET) {
                        return ok(StateJson.fault(route.name(), proxy.fault(route)));
                    }
                    if (method != HttpMethod.PUT) {
                        return notAllowed(method);
                    }
                    FaultConfig fault = FaultBody.parse(parse(body));
                    proxy.setFault(route, fault);
                    events.publish(new StateEvent(clock.currentTimeMillis(), "fault", null, null, null,
                            fault.active() ? "on" : "off", "operator", Map.of("route", route.name(),
                            "abort_percent", fault.abort().percent(), "delay_percent", fault.delay().percent())));
                    return ok(StateJson.fault(route.name(), proxy.fault(route)));
                }
                return null;
            case "clusters":
                return clusters(method, p, query, body);
            case "config":
                if (p.length == 1) {
                    return get(method, this::config);
                }
                if (p.length == 2 && p[1].equals("reload")) {
                    return method == HttpMethod.POST ? reload() : notAllowed(method);
                }
                if (p.length == 2 && p[1].equals("rollback")) {
                    return method == HttpMethod.POST ? rollback(body) : notAllowed(method);
                }
                if (p[1].equals("versions") && proxy.versions() != null) {
                    if (p.length == 2) {
                        return get(method, this::versions);
                    }
                    if (p.length == 3) {
                        return get(method, () -> version(p[2]));
                    }
                }
                return null;
            case "events":
                return p.length == 1 ? get(method, () -> events(query)) : null;
            case "recovery":
                return p.length == 1 ? get(method, this::recovery) : null;
            case "summary":
                return p.length == 1 ? get(method, () -> ok(summary.render())) : null;
            case "fleet":
                return p.length == 1 ? get(method, this::fleet) : null;
            default:
                return null;
        }
    }

    private AdminResponse clusters(HttpMethod method, String[] p, QueryStringDecoder query, String body) {
        if (p.length == 1) {
            return get(method, () -> {
                ObjectNode root = StateJson.MAPPER.createObjectNode();
                ArrayNode list = root.putArray("clusters");
                proxy.clusters().values().forEach(c -> list.add(cluster(c)));
                return ok(root);
            });
        }
        Cluster cluster = proxy.clusters().get(p[1]);
        if (cluster == null) {
            return AdminResponse.error(404, "not_found", "no cluster " + p[1]);
        }
        if (p.length == 2) {
            return get(method, () -> ok(cluster(cluster)));
        }
        if (p.length < 4 || !p[2].equals("upstreams")) {
            return null;
        }
        Upstream u = cluster.upstream(p[3]);
        if (u == null) {
            return AdminResponse.error(404, "not_found", "no upstream " + p[3] + " in cluster " + cluster.name());
        }
        if (p.length == 4) {
            return get(method, () -> ok(upstream(u)));
        }
        if (p.length != 5) {
            return null;
        }
        boolean fleetScope = fleetScope(query);
        switch (p[4]) {
            case "drain": {
                if (method != HttpMethod.POST) {
                    return notAllowed(method);
                }
                boolean force = "true".equals(param(query, "force"));
                if (!force && OperatorActions.lastEligible(cluster, u)) {
                    return AdminResponse.error(409, "conflict", u.address() + " is the last eligible upstream of "
                            + cluster.name() + "; draining it would leave no upstream (use ?force=true)");
                }
                Duration ttl = ttl(param(query, "ttl"));
                String note = note(param(query, "note"));
                if (fleetScope) {
                    return new AdminResponse(202, StateJson.write(setFleet(u, FleetOverride.Kind.DRAIN, "draining",
                            ttl, note)));
                }
                actions.drain(u, ttl, note);
                return new AdminResponse(202, StateJson.write(upstream(u)));
            }
            case "restore":
                if (method != HttpMethod.POST) {
                    return notAllowed(method);
                }
                if (fleetScope) {
                    return ok(removeFleet(u, FleetOverride.Kind.DRAIN));
                }
                actions.restore(u, note(param(query, "note")));
                return ok(upstream(u));
            case "uneject":
                if (method != HttpMethod.POST) {
                    return notAllowed(method);
                }
                actions.uneject(cluster, u);
                return ok(StateJson.upstream(u));
            case "health": {
                if (method != HttpMethod.PUT) {
                    return notAllowed(method);
                }
                JsonNode json = parse(body);
                String value = text(json, "override");
                Upstream.HealthOverride override;
                try {
                    override = Upstream.HealthOverride.valueOf(value.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new BadRequest("override must be \"healthy\", \"unhealthy\" or \"none\", got \""
                            + value + "\"");
                }
                Duration ttl = ttl(optionalText(json, "ttl"));
                String note = note(optionalText(json, "note"));
                if (fleetScope) {
                    return ok(override == Upstream.HealthOverride.NONE ? removeFleet(u, FleetOverride.Kind.OVERRIDE)
                            : setFleet(u, FleetOverride.Kind.OVERRIDE, StateJson.lower(override), ttl, note));
                }
                actions.override(u, override, ttl, note);
                return ok(upstream(u));
            }
            case "weight": {
                if (method != HttpMethod.PUT) {
                    return notAllowed(method);
                }
                JsonNode json = parse(body);
                JsonNode w = json.get("weight");
                if (w == null || !w.isIntegralNumber() || w.asLong() < 0 || w.asLong() > 1_000_000) {
                    throw new BadRequest("weight must be an integer 0..1000000");
                }
                Duration ttl = ttl(optionalText(json, "ttl"));
                String note = note(optionalText(json, "note"));
                if (fleetScope) {
                    return ok(setFleet(u, FleetOverride.Kind.WEIGHT, Integer.toString(w.asInt()), ttl, note));
                }
                actions.weight(u, w.asInt(), ttl, note);
                return ok(upstream(u));
            }
            default:
                return null;
        }
    }

    /** {@code ?scope=}: absent or {@code local} = this sidecar; {@code fleet} = every sidecar of the fleet. */
    private boolean fleetScope(QueryStringDecoder query) {
        String scope = param(query, "scope");
        if (scope == null || scope.equals("local")) {
            return false;
        }
        if (!scope.equals("fleet")) {
            throw new BadRequest("scope must be \"local\" or \"fleet\", got \"" + scope + "\"");
        }
        if (fleet == null) {
            throw new BadRequest("scope=fleet needs bulwark.fleet (this sidecar runs in single-process mode)");
        }
        return true;
    }

    /** Sets a fleet override: here at once, then in Redis for every member. */
    private ObjectNode setFleet(Upstream u, FleetOverride.Kind kind, String value, Duration ttl, String note) {
        long now = clock.currentTimeMillis();
        FleetOverride o = new FleetOverride(u.cluster(), u.address(), kind, value,
                ttl == null ? 0 : now + ttl.toMillis(), fleet.memberId(), now, java.util.UUID.randomUUID().toString(),
                note);
        actions.applyFleet(o);
        actions.seen(o.id(), fleet.memberId());
        fleet.publish(o);
        return fleetAnswer(u, o.id());
    }

    /** Removes a fleet override: here at once, then in Redis for every member. */
    private ObjectNode removeFleet(Upstream u, FleetOverride.Kind kind) {
        String id = java.util.UUID.randomUUID().toString();
        actions.removeFleet(u.cluster(), u.address(), kind, id, fleet.memberId());
        actions.seen(id, fleet.memberId());
        fleet.remove(u.cluster(), u.address(), kind, id);
        return fleetAnswer(u, id);
    }

    /** The upstream's new state here, and which members saw the change so far ({@code GET /api/v1/fleet} shows more later). */
    private ObjectNode fleetAnswer(Upstream u, String id) {
        ObjectNode n = upstream(u);
        ObjectNode f = n.putObject("fleet");
        f.put("scope", "fleet");
        f.put("change", id);
        f.put("redis_connected", fleet.status().connected());
        ArrayNode seen = f.putArray("seen_by");
        actions.seenBy(id).forEach(seen::add);
        return n;
    }

    /** An upstream's state (§4), and where each operator setting in force comes from ({@code local} / {@code fleet}). */
    private ObjectNode upstream(Upstream u) {
        ObjectNode n = StateJson.upstream(u);
        ObjectNode origin = n.putObject("override_origin");
        origin.put("admin", actions.origin(u, OperatorActions.Kind.DRAIN));
        origin.put("override", actions.origin(u, OperatorActions.Kind.OVERRIDE));
        origin.put("weight", actions.origin(u, OperatorActions.Kind.WEIGHT));
        return n;
    }

    /** {@code GET /api/v1/fleet}: the Redis connection, the live members, the fleet overrides and who saw them. */
    private AdminResponse fleet() {
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        if (fleet == null) {
            root.put("enabled", false);
            root.put("message", "single-process mode (no bulwark.fleet)");
            return ok(root);
        }
        FleetControl.Status status = fleet.status();
        root.put("enabled", true);
        root.put("name", status.name());
        root.put("member", fleet.memberId());
        ObjectNode redis = root.putObject("redis");
        redis.put("uri", status.redis());
        redis.put("mode", status.mode());
        redis.put("connected", status.connected());
        redis.put("since", java.time.Instant.ofEpochMilli(status.lastChangeMillis()).toString());
        ArrayNode members = root.putArray("members");
        for (FleetControl.Member m : status.members()) {
            members.addObject().put("id", m.id())
                    .put("last_seen", java.time.Instant.ofEpochMilli(m.lastSeenMillis()).toString())
                    .put("self", m.id().equals(fleet.memberId()));
        }
        ArrayNode overrides = root.putArray("overrides");
        for (FleetOverride o : actions.fleetOverrides()) {
            ObjectNode n = o.json();
            n.put("shadowed_here_by_local", actions.shadowed(o));
            ArrayNode seen = n.putArray("seen_by");
            actions.seenBy(o.id()).forEach(seen::add);
            overrides.add(n);
        }
        ObjectNode limits = root.putObject("global_rate_limits");
        limits.put("quota_fetches", status.quotaFetches());
        limits.put("quota_fetch_failures", status.quotaFailures());
        ObjectNode routes = limits.putObject("decisions");
        status.decisions().forEach((route, d) -> routes.putObject(route).put("by_redis", d.byRedis())
                .put("by_local", d.byLocal()));
        return ok(root);
    }

    private ObjectNode cluster(Cluster c) {
        return StateJson.cluster(c, proxy.circuitBreaker(c), proxy.limits(c));
    }

    private AdminResponse routes() {
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        ArrayNode list = root.putArray("routes");
        for (Route r : proxy.routes()) {
            list.add(StateJson.route(r, proxy.fault(r)));
        }
        return ok(root);
    }

    /**
     * What each side speaks: the listener's protocols (ALPN names; {@code h2c} for HTTP/2 with prior
     * knowledge on a plaintext listener) and, per cluster, {@code http1}, {@code h2c} or {@code h2}.
     */
    static ObjectNode protocols(io.bulwark.config.BulwarkConfig config) {
        ObjectNode n = StateJson.MAPPER.createObjectNode();
        var listener = config.listener();
        ArrayNode l = n.putArray("listener");
        if (listener.http2().enabled()) {
            l.add(listener.tls().isPresent() ? "h2" : "h2c");
        }
        l.add("http/1.1");
        ObjectNode clusters = n.putObject("clusters");
        config.clusters().forEach((name, c) -> clusters.put(name,
                !c.protocol().http2() ? "http1" : c.tls() ? "h2" : "h2c"));
        return n;
    }

    /** The effective config ({@code bulwark}, token redacted) and how it can be reloaded ({@code reload_paths}). */
    private AdminResponse config() {
        ObjectNode root;
        try {
            root = (ObjectNode) StateJson.MAPPER.readTree(ConfigLoader.toJson(proxy.config(), true));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the config JSON does not parse", e);
        }
        ArrayNode paths = root.putArray("reload_paths");
        proxy.reloadPaths().forEach(paths::add);
        ConfigVersions versions = proxy.versions();
        if (versions != null) {
            root.set("config_version", VersionJson.running(versions));
        }
        root.set("protocols", protocols(proxy.config()));
        ProxyControl.TlsEngineInfo tls = proxy.tlsEngine();
        if (tls != null) {
            ObjectNode engine = root.putObject("tls_engine");
            engine.put("listener", tls.listener().orElse(null));
            ObjectNode clusters = engine.putObject("clusters");
            tls.clusters().forEach(clusters::put);
            engine.put("openssl_version", tls.opensslVersion().orElse(null));
            engine.put("openssl_unavailable", tls.opensslUnavailable().orElse(null));
        }
        return ok(root);
    }

    private AdminResponse events(QueryStringDecoder query) {
        int limit = 100;
        String l = param(query, "limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                throw new BadRequest("limit must be a positive integer, got \"" + l + "\"");
            }
            if (limit < 1) {
                throw new BadRequest("limit must be a positive integer, got \"" + l + "\"");
            }
        }
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        ArrayNode list = root.putArray("events");
        for (StateEvent e : events.newest(Math.min(limit, events.capacity()))) {
            list.add(StateJson.event(e));
        }
        return ok(root);
    }

    private AdminResponse recovery() {
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        ArrayNode list = root.putArray("upstreams");
        for (Cluster c : proxy.clusters().values()) {
            for (Upstream u : c.upstreams()) {
                list.add(StateJson.recovery(u));
            }
        }
        return ok(root);
    }

    private AdminResponse reload() {
        ProxyControl.ReloadResult result = proxy.reload();
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        if (result.accepted()) {
            root.put("result", "accepted");
            root.put("summary", result.summary());
            return ok(root);
        }
        root.put("error", "invalid_config");
        root.put("message", "the new config was rejected; the running one stays");
        ArrayNode problems = root.putArray("problems");
        for (ConfigProblem problem : result.problems()) {
            problems.addObject().put("path", problem.path()).put("message", problem.message());
        }
        return new AdminResponse(422, StateJson.write(root));
    }

    private AdminResponse versions() {
        ConfigVersions versions = proxy.versions();
        ObjectNode root = VersionJson.running(versions);
        ArrayNode list = root.putArray("versions");
        for (ConfigVersions.Version v : versions.newestFirst()) {
            list.add(VersionJson.version(versions, v, false));
        }
        return ok(root);
    }

    private AdminResponse version(String number) {
        int n = versionNumber(number);
        ConfigVersions versions = proxy.versions();
        return versions.get(n).map(v -> ok(VersionJson.version(versions, v, true)))
                .orElseGet(() -> AdminResponse.error(404, "not_found", "no config version " + n + " (the last "
                        + ConfigVersions.CAPACITY + " are kept; GET /api/v1/config/versions lists them)"));
    }

    private static int versionNumber(String text) {
        try {
            int n = Integer.parseInt(text);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new BadRequest("a version number is a positive integer, got \"" + text + "\"");
    }

    /** {@code POST /api/v1/config/rollback}, body {@code {"to": n}} or empty for the previous version. */
    private AdminResponse rollback(String body) {
        java.util.OptionalInt to = java.util.OptionalInt.empty();
        if (body != null && !body.isBlank()) {
            JsonNode json = parse(body);
            JsonNode n = json.get("to");
            if (n != null && !n.isNull()) {
                if (!n.isIntegralNumber() || n.asLong() < 1 || n.asLong() > Integer.MAX_VALUE) {
                    throw new BadRequest("\"to\" must be a version number (a positive integer), got " + n);
                }
                to = java.util.OptionalInt.of(n.asInt());
            }
            json.fieldNames().forEachRemaining(f -> {
                if (!f.equals("to")) {
                    throw new BadRequest("unknown field \"" + f + "\" (expected: only \"to\")");
                }
            });
        }
        ProxyControl.RollbackResult result = proxy.rollback(to);
        if (result.version() == null) {
            return AdminResponse.error(result.status(), result.error(), result.message());
        }
        ObjectNode root = StateJson.MAPPER.createObjectNode();
        root.put("result", "rolled_back");
        root.set("version", VersionJson.version(proxy.versions(), result.version(), false));
        return ok(root);
    }

    // ---- helpers ----

    private interface Getter {
        AdminResponse get();
    }

    private static AdminResponse get(HttpMethod method, Getter getter) {
        return method == HttpMethod.GET ? getter.get() : notAllowed(method);
    }

    private static AdminResponse notAllowed(HttpMethod method) {
        return AdminResponse.error(405, "method_not_allowed", method + " is not allowed here");
    }

    private static AdminResponse ok(JsonNode node) {
        return new AdminResponse(200, StateJson.write(node));
    }

    private static String param(QueryStringDecoder query, String name) {
        List<String> values = query.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private static JsonNode parse(String body) {
        try {
            JsonNode node = StateJson.MAPPER.readTree(body);
            if (node == null || !node.isObject()) {
                throw new BadRequest("the body must be a JSON object");
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadRequest("the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode json, String field) {
        JsonNode v = json.get(field);
        if (v == null || !v.isTextual()) {
            throw new BadRequest("\"" + field + "\" must be a string");
        }
        return v.asText();
    }

    private static String optionalText(JsonNode json, String field) {
        JsonNode v = json.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new BadRequest("\"" + field + "\" must be a string such as \"10m\"");
        }
        return v.asText();
    }

    /** The operator's words for a change (event detail {@code note}); null when absent or blank. */
    static String note(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        if (text.length() > MAX_NOTE) {
            throw new BadRequest("note is longer than " + MAX_NOTE + " characters");
        }
        return text.strip();
    }

    private static final int MAX_NOTE = 200;

    /** A TTL such as {@code 10m}, {@code 30s}, {@code 1h}, {@code 250ms}; null when absent. */
    static Duration ttl(String text) {
        if (text == null) {
            return null;
        }
        String trimmed = text.trim();
        if (trimmed.matches("[0-9]*\\.?[0-9]+")) {
            // HOCON would read a bare number as milliseconds; a TTL of "10" meaning 10ms is never intended.
            throw new BadRequest("ttl \"" + text + "\" has no unit (write " + trimmed + "s or " + trimmed + "m)");
        }
        try {
            Duration d = com.typesafe.config.ConfigFactory.parseString("t = \"" + text.replace("\"", "") + "\"")
                    .getDuration("t");
            if (d.isNegative() || d.isZero()) {
                throw new BadRequest("ttl must be positive, got \"" + text + "\"");
            }
            return d;
        } catch (com.typesafe.config.ConfigException | DateTimeParseException e) {
            throw new BadRequest("ttl must be a duration such as \"10m\" or \"30s\", got \"" + text + "\"");
        }
    }

    /** A client error in the call itself; answered 400. */
    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
