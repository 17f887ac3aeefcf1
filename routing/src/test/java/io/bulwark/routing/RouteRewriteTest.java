package io.bulwark.routing;

import io.bulwark.config.RouteConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.bulwark.routing.TestConfigs.route;
import static org.assertj.core.api.Assertions.assertThat;

class RouteRewriteTest {

    private final Map<String, Cluster> clusters =
            Map.of("users", new Cluster(TestConfigs.cluster("users", "127.0.0.1:9001"), new ManualClock()));

    private Route compile(RouteConfig config) {
        return RouteTable.compile(List.of(config), clusters).routes().get(0);
    }

    @Test
    void routeWithoutRewriteLeavesPathAndQueryAlone() {
        Route route = compile(route("r").prefix("/users").cluster("users").build());

        assertThat(route.rewrite("/users/42?x=1")).isEqualTo("/users/42?x=1");
    }

    @Test
    void rewriteToSlashDoesNotDoubleTheSlash() {
        Route route = compile(route("r").prefix("/users").prefixRewrite("/").cluster("users").build());

        assertThat(route.rewrite("/users/42?x=1")).isEqualTo("/42?x=1");
        assertThat(route.rewrite("/users/42")).isEqualTo("/42");
        assertThat(route.rewrite("/users")).isEqualTo("/");
        assertThat(route.rewrite("/users/")).isEqualTo("/");
        assertThat(route.rewrite("/users?x=1")).isEqualTo("/?x=1");
        assertThat(route.rewrite("/usersx")).isEqualTo("/x");
    }

    @Test
    void prefixIsReplacedLiterallyAndQueryKept() {
        Route route = compile(route("r").prefix("/users/").prefixRewrite("/v2/people/").cluster("users").build());

        assertThat(route.rewrite("/users/42?x=1&y=/users/")).isEqualTo("/v2/people/42?x=1&y=/users/");
        assertThat(route.rewrite("/users/")).isEqualTo("/v2/people/");
    }

    @Test
    void rewriteWithoutTrailingSlashJoinsAsEnvoyDoes() {
        Route route = compile(route("r").prefix("/api").prefixRewrite("/internal").cluster("users").build());

        assertThat(route.rewrite("/api/users?q=a")).isEqualTo("/internal/users?q=a");
        assertThat(route.rewrite("/apiv2")).isEqualTo("/internalv2");
    }

    @Test
    void exactAndRegexRoutesReplaceTheWholePathButKeepTheQuery() {
        Route exact = compile(route("r").exact("/old-health").prefixRewrite("/health").cluster("users").build());
        Route regex = compile(route("r").regex("/legacy/.*").prefixRewrite("/modern").cluster("users").build());

        assertThat(exact.rewrite("/old-health?verbose=1")).isEqualTo("/health?verbose=1");
        assertThat(regex.rewrite("/legacy/a/b")).isEqualTo("/modern");
        assertThat(regex.rewrite("/legacy/a/b?x=1")).isEqualTo("/modern?x=1");
    }

    @Test
    void resultAlwaysStartsWithSlash() {
        Route route = compile(route("r").prefix("/users/").prefixRewrite("").cluster("users").build());

        assertThat(route.rewrite("/users/")).isEqualTo("/");
        assertThat(route.rewrite("/users/42")).isEqualTo("/42");
    }
}
