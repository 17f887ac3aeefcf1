package io.bulwark.admin;

import io.bulwark.routing.EventSink;
import io.bulwark.routing.StateEvent;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bounded event log behind {@code GET /api/v1/events}: every state transition (detectors,
 * health checks, operator calls, TTL expiries, reloads), newest first. Lock-free, since event
 * loops publish into it; the oldest events fall off once {@code capacity} is reached.
 */
public final class EventLog implements EventSink {

    private final ConcurrentLinkedDeque<StateEvent> events = new ConcurrentLinkedDeque<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicLong published = new AtomicLong();
    private final int capacity;
    /** The newest {@code reload} event, kept apart so it outlives the ring (the console shows it). */
    private volatile StateEvent lastReload;

    public EventLog(int capacity) {
        this.capacity = capacity;
    }

    @Override
    public void publish(StateEvent event) {
        if ("reload".equals(event.type())) {
            lastReload = event;
        }
        events.addFirst(event);
        published.incrementAndGet();
        if (size.incrementAndGet() > capacity) {
            if (events.pollLast() != null) {
                size.decrementAndGet();
            }
        }
    }

    /**
     * Up to {@code limit} events, newest first by their time. Events reach the log in nearly that
     * order; two event loops stamping and publishing at once can swap neighbours, which the
     * (stable, and on nearly sorted input linear) sort puts back.
     */
    public List<StateEvent> newest(int limit) {
        List<StateEvent> out = new ArrayList<>(Math.min(limit, capacity));
        Iterator<StateEvent> it = events.iterator();
        while (it.hasNext() && out.size() < limit) {
            out.add(it.next());
        }
        out.sort(NEWEST_FIRST);
        return out;
    }

    private static final Comparator<StateEvent> NEWEST_FIRST =
            Comparator.comparingLong(StateEvent::timeMillis).reversed();

    /** How many events were ever published: a client polling the log refetches only when it moved. */
    public long published() {
        return published.get();
    }

    /** The newest config reload (accepted or rejected), if any happened since start. */
    public java.util.Optional<StateEvent> lastReload() {
        return java.util.Optional.ofNullable(lastReload);
    }

    public int capacity() {
        return capacity;
    }
}
