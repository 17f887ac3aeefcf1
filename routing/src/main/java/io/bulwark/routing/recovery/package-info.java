/**
 * Recovery timings per upstream (CONTRACT §5 {@code GET /api/v1/recovery}): how long failures took
 * to detect and how long the host took to serve at full weight again, with a bounded history.
 */
package io.bulwark.routing.recovery;
