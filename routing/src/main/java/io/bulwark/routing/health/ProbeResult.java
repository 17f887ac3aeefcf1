package io.bulwark.routing.health;

/**
 * The result of one health check.
 *
 * @param outcome what happened
 * @param status the response status for {@link Outcome#RESPONSE}; 0 otherwise
 * @param detail a short description for the event log (an exception message), may be empty
 */
public record ProbeResult(Outcome outcome, int status, String detail) {

    public enum Outcome { RESPONSE, TIMEOUT, CONNECT_FAILURE, ERROR }

    public ProbeResult {
        detail = detail == null ? "" : detail;
    }

    /** Results of every status a check can get, built once: a thousand checks a second allocate none. */
    private static final ProbeResult[] RESPONSES = new ProbeResult[600];
    private static final ProbeResult TIMEOUT = new ProbeResult(Outcome.TIMEOUT, 0, "");

    static {
        for (int status = 100; status < RESPONSES.length; status++) {
            RESPONSES[status] = new ProbeResult(Outcome.RESPONSE, status, "");
        }
    }

    /** The upstream answered {@code status}. */
    public static ProbeResult response(int status) {
        return status >= 100 && status < RESPONSES.length ? RESPONSES[status]
                : new ProbeResult(Outcome.RESPONSE, status, "");
    }

    /** No complete response within the check's timeout. */
    public static ProbeResult timeout() {
        return TIMEOUT;
    }

    /** The connection could not be made. */
    public static ProbeResult connectFailure(String detail) {
        return new ProbeResult(Outcome.CONNECT_FAILURE, 0, detail);
    }

    /** Anything else that went wrong: a reset, a malformed response, the prober itself failing. */
    public static ProbeResult error(String detail) {
        return new ProbeResult(Outcome.ERROR, 0, detail);
    }

    /** A check passes on a 2xx response; everything else fails. */
    public boolean passed() {
        return outcome == Outcome.RESPONSE && status >= 200 && status <= 299;
    }

    /** For events: {@code status 503}, {@code timeout}, {@code connect_failure: ...}. */
    public String describe() {
        String what = switch (outcome) {
            case RESPONSE -> "status " + status;
            case TIMEOUT -> "timeout";
            case CONNECT_FAILURE -> "connect_failure";
            case ERROR -> "error";
        };
        return detail.isEmpty() ? what : what + ": " + detail;
    }
}
