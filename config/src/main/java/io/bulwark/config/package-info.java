/**
 * HOCON configuration: {@link io.bulwark.config.ConfigLoader} reads a file with Typesafe Config,
 * validates all of it strictly and returns an immutable {@link io.bulwark.config.BulwarkConfig}
 * snapshot. Every default lives in {@code reference.conf}.
 */
package io.bulwark.config;
