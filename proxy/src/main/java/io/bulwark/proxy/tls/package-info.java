/** TLS contexts for the listener and for upstream connections. */
package io.bulwark.proxy.tls;
