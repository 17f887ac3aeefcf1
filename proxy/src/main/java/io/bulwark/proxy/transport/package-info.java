/**
 * The socket transport: native epoll where available, NIO otherwise.
 */
package io.bulwark.proxy.transport;
