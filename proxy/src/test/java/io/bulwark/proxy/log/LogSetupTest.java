package io.bulwark.proxy.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LogSetupTest {

    @Test
    void aLineReadsAsTheXmlPatternDidWithTheStackTraceAfterIt() {
        LoggerContext context = new LoggerContext();
        LogSetup.LineLayout layout = new LogSetup.LineLayout();
        layout.setContext(context);
        layout.start();
        ch.qos.logback.classic.Logger logger = context.getLogger("io.bulwark.proxy.ConfigReloader");
        LoggingEvent event = new LoggingEvent("x", logger, Level.WARN, "reload {} rejected", null,
                new Object[] {"admin_api"});
        event.setThreadName("bulwark-background");

        String line = layout.doLayout(event);
        assertThat(line).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) WARN  "
                + "\\[bulwark-background] i\\.b\\.proxy\\.ConfigReloader - reload admin_api rejected\\R");

        LoggingEvent failed = new LoggingEvent("x", logger, Level.ERROR, "boom", new IllegalStateException("why"), null);
        failed.setThreadName("main");
        assertThat(layout.doLayout(failed)).contains("ERROR [main]").contains("java.lang.IllegalStateException: why")
                .contains("at io.bulwark.proxy.log.LogSetupTest");
    }

    @Test
    void stepsAsideForTheTestsOwnConfigurationOrAnOperatorsFile() {
        // The test class path has a logback-test.xml: the tests keep their own configuration.
        assertThat(new LogSetup().configure(new LoggerContext())).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    }
}
