/**
 * Recovery timings per upstream, as {@code GET /api/v1/recovery} shows them: how long failures took
 * to detect and how long the host took to serve at full weight again, with a bounded history.
 */
package io.bulwark.routing.recovery;
