package io.bulwark.proxy.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Proxy;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The leak check itself must be able to fail: a buffer dropped unreleased fails the class. */
class LeakCheckTest {

    @Test
    void aDroppedBufferIsReportedAsAFailure() {
        LeakCheck check = new LeakCheck();
        ExtensionContext context = (ExtensionContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ExtensionContext.class}, (p, m, a) -> m.getName().equals("getDisplayName")
                        ? "leaky" : null);
        check.beforeAll(context);
        leak();
        assertThatThrownBy(() -> check.afterAll(context))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Netty buffer leak");
    }

    private static void leak() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(32);
        buf.writeInt(42); // never released
    }
}
