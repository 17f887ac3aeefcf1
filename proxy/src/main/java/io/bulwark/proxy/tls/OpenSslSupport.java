package io.bulwark.proxy.tls;

import io.netty.handler.ssl.OpenSsl;

import java.util.Optional;

/**
 * Whether the OpenSSL engine (netty-tcnative's BoringSSL, native code unpacked from the jar) can be
 * used in this process, and if not, why. {@link #detect()} asks Netty once; tests pass
 * {@link #unavailable} to see what a machine without it does.
 *
 * @param version the library's version string when available
 * @param unavailableBecause one line on why it is not
 */
public record OpenSslSupport(boolean available, Optional<String> version, Optional<String> unavailableBecause) {

    /** What this JVM has: {@code -Dio.netty.handler.ssl.noOpenSsl=true} turns it off on purpose. */
    public static OpenSslSupport detect() {
        if (OpenSsl.isAvailable()) {
            return new OpenSslSupport(true, Optional.of(OpenSsl.versionString()), Optional.empty());
        }
        return unavailable(describe(OpenSsl.unavailabilityCause()));
    }

    public static OpenSslSupport unavailable(String why) {
        return new OpenSslSupport(false, Optional.empty(), Optional.of(why));
    }

    /** The innermost cause's message: the loader's own wording (missing library, wrong architecture...). */
    private static String describe(Throwable cause) {
        if (cause == null) {
            return "the native library did not load";
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.lines().findFirst().orElse(message).strip();
    }
}
