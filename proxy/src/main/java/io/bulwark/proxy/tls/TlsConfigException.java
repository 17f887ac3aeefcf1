package io.bulwark.proxy.tls;

/**
 * A TLS setting that cannot be used on this machine: a certificate or key that does not load, or
 * {@code provider = openssl} where the OpenSSL engine does not load. A configuration error (exit 2
 * at start, a rejected reload later), reported as one line naming the config path.
 */
public final class TlsConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String path;
    private final String problem;

    TlsConfigException(String path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
        this.problem = problem;
    }

    /** The config path at fault, like {@code bulwark.listener.tls.provider}. */
    public String path() {
        return path;
    }

    /** What is wrong with it, without the path. */
    public String problem() {
        return problem;
    }
}
