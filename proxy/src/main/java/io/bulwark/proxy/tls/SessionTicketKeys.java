package io.bulwark.proxy.tls;

import io.netty.handler.ssl.OpenSslSessionTicketKey;

import java.security.SecureRandom;

/**
 * The listener's session ticket keys: the newest encrypts new tickets, the one before it still
 * decrypts tickets it issued, so a ticket stays usable for one full rotation period after its key
 * was retired and never longer. Random, in memory only (a restart invalidates every ticket: the
 * clients then make one full handshake), and shared by every listener context, so a certificate
 * reload keeps resumption working.
 */
final class SessionTicketKeys {

    private final SecureRandom random;
    private volatile OpenSslSessionTicketKey[] keys;

    SessionTicketKeys(SecureRandom random) {
        this.random = random;
        this.keys = new OpenSslSessionTicketKey[] {newKey()};
    }

    /** The keys to install: the current one first (it encrypts), then the previous one. */
    OpenSslSessionTicketKey[] keys() {
        return keys.clone();
    }

    /** A new current key; the current one becomes the previous one and the previous one is dropped. */
    synchronized void rotate() {
        keys = new OpenSslSessionTicketKey[] {newKey(), keys[0]};
    }

    private OpenSslSessionTicketKey newKey() {
        byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        random.nextBytes(name);
        random.nextBytes(hmac);
        random.nextBytes(aes);
        return new OpenSslSessionTicketKey(name, hmac, aes);
    }
}
