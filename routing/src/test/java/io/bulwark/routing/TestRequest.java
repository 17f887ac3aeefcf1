package io.bulwark.routing;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** A {@link RequestView} built by hand: {@code TestRequest.get("/users").host("api.example.com")}. */
public final class TestRequest implements RequestView {

    private String method = "GET";
    private String host = "";
    private String path = "/";
    private String clientIp = "192.0.2.1";
    private final Map<String, String> headers = new HashMap<>();
    private final Map<String, String> cookies = new HashMap<>();

    public static TestRequest get(String path) {
        return new TestRequest().path(path);
    }

    public static TestRequest request(String method, String path) {
        return new TestRequest().method(method).path(path);
    }

    public TestRequest method(String method) {
        this.method = method;
        return this;
    }

    public TestRequest host(String host) {
        this.host = host;
        return this;
    }

    public TestRequest path(String path) {
        this.path = path;
        return this;
    }

    public TestRequest header(String name, String value) {
        headers.put(name.toLowerCase(Locale.ROOT), value);
        return this;
    }

    public TestRequest cookie(String name, String value) {
        cookies.put(name, value);
        return this;
    }

    public TestRequest clientIp(String clientIp) {
        this.clientIp = clientIp;
        return this;
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public String cookie(String name) {
        return cookies.get(name);
    }

    @Override
    public String clientIp() {
        return clientIp;
    }
}
