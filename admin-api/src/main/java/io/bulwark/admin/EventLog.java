package io.bulwark.admin;

import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded event log behind {@code GET /api/v1/events}: every state transition (detectors,
 * health checks, operator calls, TTL expiries, reloads), newest first. Lock-free, since event
 * loops publish into it; the oldest events fall off once {@code capacity} is reached.
 */
public final class EventLog implements EventSink {

    private final ConcurrentLinkedDeque<StateEvent> events = new ConcurrentLinkedDeque<>();
    private final AtomicInteger size = new AtomicInteger();
    private final int capacity;

    public EventLog(int capacity) {
        this.capacity = capacity;
    }

    @Override
    public void publish(StateEvent event) {
        events.addFirst(event);
        if (size.incrementAndGet() > capacity) {
            if (events.pollLast() != null) {
                size.decrementAndGet();
            }
        }
    }

    /** Up to {@code limit} events, newest first. */
    public List<StateEvent> newest(int limit) {
        List<StateEvent> out = new ArrayList<>(Math.min(limit, capacity));
        Iterator<StateEvent> it = events.iterator();
        while (it.hasNext() && out.size() < limit) {
            out.add(it.next());
        }
        return out;
    }

    public int capacity() {
        return capacity;
    }
}
