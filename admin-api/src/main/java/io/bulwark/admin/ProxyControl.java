package io.bulwark.admin;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigProblem;
import io.bulwark.config.FaultConfig;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.Route;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.circuit.ClusterCircuitBreaker;
import io.bulwark.routing.limits.ClusterLimits;

import java.util.List;
import java.util.Map;

/**
 * What the admin API needs from the running proxy: its current state to show, and the few
 * actions only the data plane can take. Implemented by the proxy; every method is thread-safe.
 */
public interface ProxyControl {

    /** The config in force. */
    BulwarkConfig config();

    /** The run-time clusters of the config in force, by name. */
    Map<String, Cluster> clusters();

    /** The compiled routes of the config in force, in match order. */
    List<Route> routes();

    /** An upstream stopped taking new requests: close its idle pooled connections on every event loop. */
    void closeIdleConnections(Upstream upstream);

    /** The cluster's circuit breaker, or null for a cluster not in force. */
    ClusterCircuitBreaker circuitBreaker(Cluster cluster);

    /** The cluster's bulkhead limits, or null for a cluster not in force. */
    ClusterLimits limits(Cluster cluster);

    /** The fault settings in force for a route (its config, or the operator's run-time switch). */
    FaultConfig fault(Route route);

    /** Switches a route's fault injection at run time; {@link FaultConfig#NONE} turns it off. */
    void setFault(Route route, FaultConfig fault);

    /** Re-reads and validates the config file, swapping it in when valid. */
    ReloadResult reload();

    /**
     * How the config can be reloaded now: {@code admin_api}, {@code sighup}, {@code watch_config};
     * empty when there is no file to reload.
     */
    List<String> reloadPaths();

    /** The history of configs that took effect; null when this proxy keeps none. */
    default ConfigVersions versions() {
        return null;
    }

    /**
     * Swaps in the config of version {@code to} (empty: {@link ConfigVersions#previous()}), validated
     * and applied as a reload is, and records it as a new version.
     */
    default RollbackResult rollback(java.util.OptionalInt to) {
        return RollbackResult.refused(409, "conflict", "this proxy keeps no config versions");
    }

    /**
     * @param version the new running version when the rollback was done; null when refused
     * @param status 200 when done; 404 (no such version kept), 409 (nothing to roll back to, or it cannot apply)
     */
    record RollbackResult(ConfigVersions.Version version, int status, String error, String message) {
        public static RollbackResult done(ConfigVersions.Version version) {
            return new RollbackResult(version, 200, null, null);
        }

        public static RollbackResult refused(int status, String error, String message) {
            return new RollbackResult(null, status, error, message);
        }
    }

    /** The TLS engines in use ({@code tls_engine} in {@code GET /api/v1/config}); null when not known. */
    default TlsEngineInfo tlsEngine() {
        return null;
    }

    /**
     * Which TLS engine ({@code openssl} or {@code jdk}) serves the listener and each TLS cluster.
     *
     * @param listener empty for a plain-HTTP listener
     * @param clusters by cluster name, only clusters with {@code tls = true}
     * @param opensslVersion the OpenSSL (BoringSSL) library's version where it loads
     * @param opensslUnavailable why it does not load, where it does not
     */
    record TlsEngineInfo(java.util.Optional<String> listener, Map<String, String> clusters,
                         java.util.Optional<String> opensslVersion, java.util.Optional<String> opensslUnavailable) {
    }

    /** @param problems empty when the new config was accepted */
    record ReloadResult(boolean accepted, List<ConfigProblem> problems, String summary) {
    }
}
