package io.bulwark.proxy.retry;

/** Room for one more retry of a request, as its admission step grants it (retry budget, cluster limit). */
public interface RetryPermits {

    /** Why a retry was not allowed, or {@link #NONE}. */
    enum Refusal { NONE, BUDGET, LIMIT }

    /** Takes the permits for one retry (held until its try ends), or says which layer refused. */
    Refusal admitRetry();

    /** The current retry's try ended: its permits go back. */
    void retryEnded();
}
