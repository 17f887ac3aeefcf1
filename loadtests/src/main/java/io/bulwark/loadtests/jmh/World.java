package io.bulwark.loadtests.jmh;

import io.bulwark.config.BulwarkConfig;
import io.bulwark.config.ConfigLoader;
import io.bulwark.routing.Clock;
import io.bulwark.routing.Cluster;
import io.bulwark.routing.RequestView;

import java.util.LinkedHashMap;
import java.util.Map;

/** Configs and requests of a large world for the benchmarks, built the way the proxy builds them. */
final class World {

    private World() {
    }

    /** {@code routes} prefix routes /svc-00000/ ... and one cluster of {@code upstreams} endpoints. */
    static BulwarkConfig config(int routes, int upstreams, String loadBalancer) {
        StringBuilder hocon = new StringBuilder("bulwark {\n listener { port = 8080 }\n clusters { app {\n endpoints = [");
        for (int i = 0; i < upstreams; i++) {
            hocon.append(i == 0 ? "" : ", ").append("\"127.0.").append(i / 250).append('.').append(1 + i % 250)
                    .append(":8080\"");
        }
        hocon.append("]\n load-balancer = ").append(loadBalancer).append("\n } }\n routes = [\n");
        for (int i = 0; i < routes; i++) {
            hocon.append(String.format(" { name = r%d, match { path-prefix = \"/svc-%05d/\" }, cluster = app }%n", i, i));
        }
        hocon.append(" ]\n}\n");
        try {
            return ConfigLoader.parse(hocon.toString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Cluster> clusters(BulwarkConfig config) {
        Map<String, Cluster> clusters = new LinkedHashMap<>();
        config.clusters().forEach((name, c) -> {
            Cluster cluster = new Cluster(c, Clock.SYSTEM);
            cluster.resolve(Cluster.Resolver.SYSTEM);
            clusters.put(name, cluster);
        });
        return clusters;
    }

    /** A GET of {@code path} with a Host header, no other headers. */
    static RequestView get(String path) {
        return new RequestView() {
            @Override
            public String method() {
                return "GET";
            }

            @Override
            public String host() {
                return "api.example.com";
            }

            @Override
            public String path() {
                return path;
            }

            @Override
            public String header(String name) {
                return null;
            }

            @Override
            public String cookie(String name) {
                return null;
            }

            @Override
            public String clientIp() {
                return "192.0.2.1";
            }
        };
    }
}
