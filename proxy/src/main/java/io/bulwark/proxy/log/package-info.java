/**
 * The JSON access log, written off the event loops.
 */
package io.bulwark.proxy.log;
