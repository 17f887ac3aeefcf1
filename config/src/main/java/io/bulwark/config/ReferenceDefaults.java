package io.bulwark.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;

/**
 * The built-in defaults from {@code reference.conf}: the {@code bulwark} root for the single
 * top-level blocks, and one object per repeated or optional element from {@code bulwark-defaults},
 * merged into each element as it is read. Loaded once; immutable.
 */
record ReferenceDefaults(
        ConfigObject bulwark,
        ConfigObject listenerTls,
        ConfigObject cluster,
        ConfigObject endpoint,
        ConfigObject healthCheck,
        ConfigObject route,
        ConfigObject weightedCluster,
        ConfigObject rateLimit,
        ConfigObject fault,
        ConfigObject outlierLatency,
        ConfigObject adaptiveLimit,
        ConfigObject fleet) {

    private static final ReferenceDefaults INSTANCE = load();

    static ReferenceDefaults get() {
        return INSTANCE;
    }

    private static ReferenceDefaults load() {
        // Every reference.conf on the class path is merged, but only Bulwark's two roots are read,
        // so another library's defaults can never show up in (or break) a Bulwark config.
        Config all = ConfigFactory.parseResources(ReferenceDefaults.class.getClassLoader(), "reference.conf");
        Config bulwark = all.withOnlyPath("bulwark").resolve();
        Config elements = all.withOnlyPath("bulwark-defaults").resolve().getConfig("bulwark-defaults");
        return new ReferenceDefaults(
                bulwark.getObject("bulwark"),
                elements.getObject("listener-tls"),
                elements.getObject("cluster"),
                elements.getObject("endpoint"),
                elements.getObject("health-check"),
                elements.getObject("route"),
                elements.getObject("weighted-cluster"),
                elements.getObject("rate-limit"),
                elements.getObject("fault"),
                elements.getObject("outlier-latency"),
                elements.getObject("adaptive-limit"),
                elements.getObject("fleet"));
    }
}
