/**
 * Judging a reload: what each route and cluster answered recently ({@code RouteOutcomes}, fed by
 * the data plane's request metrics) and the automatic rollback of a reload that made a changed
 * route worse ({@code BakeWatch}, {@code bulwark.reload.auto-rollback}).
 */
package io.bulwark.proxy.reload;
