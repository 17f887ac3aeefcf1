package io.bulwark.proxy.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;

import java.util.Map;

/**
 * Help text for the meters that third-party binders register without one (Micrometer's Netty
 * binders), so that every metric on {@code /metrics} has a {@code # HELP} line and
 * {@code promtool check metrics} has nothing to say about Bulwark's own names. Configure it on
 * the registry before the binders bind.
 */
public final class MeterDescriptions implements MeterFilter {

    /** Keyed by Micrometer name (dots); the Prometheus name is the same with underscores. */
    static final Map<String, String> DESCRIPTIONS = Map.of(
            "netty.allocator.memory.used", "Memory used by Netty's buffer allocator, by memory type (heap or direct)",
            "netty.allocator.memory.pinned", "Memory pinned by buffers in use in Netty's buffer allocator",
            "netty.allocator.pooled.arenas", "Arenas of Netty's pooled buffer allocator",
            "netty.allocator.pooled.cache.size", "Cache size of Netty's pooled buffer allocator, by cache type",
            "netty.allocator.pooled.threadlocal.caches", "Thread-local caches of Netty's pooled buffer allocator",
            "netty.allocator.pooled.chunk.size", "Chunk size of Netty's pooled buffer allocator",
            "netty.eventexecutor.tasks.pending", "Tasks waiting to run on each worker event loop",
            "netty.eventexecutor.workers", "Worker event loops");

    @Override
    public Meter.Id map(Meter.Id id) {
        String description = id.getDescription();
        if (description != null && !description.isBlank()) {
            return id;
        }
        String known = DESCRIPTIONS.get(id.getName());
        if (known == null) {
            return id;
        }
        return new Meter.Id(id.getName(), Tags.of(id.getTagsAsIterable()), id.getBaseUnit(), known, id.getType());
    }
}
