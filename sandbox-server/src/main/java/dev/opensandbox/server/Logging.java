package dev.opensandbox.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import dev.opensandbox.server.config.LogSection;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Configures logback from {@code [log]}: level, stdout or rotating files (with a separate access
 * log), and upstream's line layout {@code LEVEL time [request_id] logger: message}, or JSON lines.
 */
final class Logging {

    static final String ACCESS_LOGGER = "dev.opensandbox.server.access";
    /** Upstream's layout, with the client-influenced parts written through {@link LogEscaping}. */
    private static final String PATTERN =
        "%-8level %d{yyyy-MM-dd HH:mm:ssZ} [%safeX{request_id:--}] %logger: %safeMsg%n%safeEx";

    private Logging() {
    }

    static void configure(LogSection log) {
        configure((LoggerContext) LoggerFactory.getILoggerFactory(), log);
    }

    /** Configures {@code context} (the server's own, or a test's). */
    static void configure(LoggerContext context, LogSection log) {
        context.reset();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(log.logbackLevel(), Level.INFO));
        Logger access = context.getLogger(ACCESS_LOGGER);
        access.setAdditive(false);
        access.setLevel(Level.INFO);
        // Jetty and the Docker client are chatty at INFO/DEBUG; their warnings still show.
        context.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
        context.getLogger("io.javalin").setLevel(Level.WARN);
        if (log.fileEnabled()) {
            root.addAppender(rollingFile(context, "main", log.filePath(), log));
            access.addAppender(rollingFile(context, "access", log.accessFilePath(), log));
        } else {
            Appender<ILoggingEvent> console = console(context, log.json());
            root.addAppender(console);
            access.addAppender(console);
        }
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, boolean json) {
        if (json) {
            // One JSON object per line, with the MDC (request_id) as a field: for log shippers.
            JsonEncoder encoder = new JsonEncoder();
            encoder.setContext(context);
            encoder.start();
            return encoder;
        }
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        layout.getInstanceConverterMap().put("safeMsg", LogEscaping.SafeMessage::new);
        layout.getInstanceConverterMap().put("safeX", LogEscaping.SafeMdc::new);
        layout.getInstanceConverterMap().put("safeEx", LogEscaping.SafeThrowable::new);
        layout.setPattern(PATTERN);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setCharset(StandardCharsets.UTF_8);
        encoder.setLayout(layout);
        encoder.start();
        return encoder;
    }

    private static Appender<ILoggingEvent> console(LoggerContext context, boolean json) {
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName("stdout");
        appender.setEncoder(encoder(context, json));
        appender.start();
        return appender;
    }

    private static Appender<ILoggingEvent> rollingFile(LoggerContext context, String name, Path file, LogSection log) {
        boolean json = log.json();
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new IllegalStateException("Cannot create the log directory of " + file + ": " + e.getMessage(), e);
        }
        RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
        appender.setContext(context);
        appender.setName(name);
        appender.setFile(file.toString());
        FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
        rolling.setContext(context);
        rolling.setParent(appender);
        rolling.setFileNamePattern(file + ".%i");
        rolling.setMinIndex(1);
        rolling.setMaxIndex(Math.max(1, log.fileBackupCount()));
        rolling.start();
        SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
        trigger.setContext(context);
        trigger.setMaxFileSize(new FileSize(log.fileMaxBytes()));
        trigger.start();
        appender.setRollingPolicy(rolling);
        appender.setTriggeringPolicy(trigger);
        appender.setEncoder(encoder(context, json));
        appender.start();
        return appender;
    }
}
