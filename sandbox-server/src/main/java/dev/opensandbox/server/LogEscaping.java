package dev.opensandbox.server;

import ch.qos.logback.classic.pattern.MDCConverter;
import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;

/**
 * Control characters never reach a log line unescaped. Log messages carry what clients sent
 * (sandbox ids from paths, header values, messages of exceptions about them); a decoded
 * {@code %0a} would otherwise start a forged line. The text layout writes the message, the MDC
 * and the messages of throwables through these converters: {@code \n}, {@code \r}, {@code \t}
 * become those two-character escapes; any other C0 or C1 control, DEL and the Unicode line and
 * paragraph separators become a backslash, {@code u} and four hex digits. The JSON layout escapes
 * control characters itself.
 */
final class LogEscaping {

    private LogEscaping() {
    }

    static String escape(String text) {
        if (text == null || text.chars().noneMatch(LogEscaping::needsEscape)) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (needsEscape(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    private static boolean needsEscape(int c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }

    /** {@code %msg}, escaped. */
    static final class SafeMessage extends MessageConverter {
        @Override
        public String convert(ILoggingEvent event) {
            return escape(super.convert(event));
        }
    }

    /** {@code %X{key}}, escaped. */
    static final class SafeMdc extends MDCConverter {
        @Override
        public String convert(ILoggingEvent event) {
            return escape(super.convert(event));
        }
    }

    /** {@code %ex}: the stack keeps its lines; the messages in it (of causes and suppressed ones too) are escaped. */
    static final class SafeThrowable extends ThrowableProxyConverter {
        @Override
        protected String throwableProxyToString(IThrowableProxy proxy) {
            return super.throwableProxyToString(new EscapedThrowable(proxy));
        }
    }

    private record EscapedThrowable(IThrowableProxy proxy) implements IThrowableProxy {
        @Override
        public String getMessage() {
            return escape(proxy.getMessage());
        }

        @Override
        public String getClassName() {
            return proxy.getClassName();
        }

        @Override
        public StackTraceElementProxy[] getStackTraceElementProxyArray() {
            return proxy.getStackTraceElementProxyArray();
        }

        @Override
        public int getCommonFrames() {
            return proxy.getCommonFrames();
        }

        @Override
        public IThrowableProxy getCause() {
            return proxy.getCause() == null ? null : new EscapedThrowable(proxy.getCause());
        }

        @Override
        public IThrowableProxy[] getSuppressed() {
            IThrowableProxy[] suppressed = proxy.getSuppressed();
            if (suppressed == null) {
                return null;
            }
            IThrowableProxy[] escaped = new IThrowableProxy[suppressed.length];
            for (int i = 0; i < suppressed.length; i++) {
                escaped[i] = new EscapedThrowable(suppressed[i]);
            }
            return escaped;
        }

        @Override
        public boolean isCyclic() {
            return proxy.isCyclic();
        }
    }
}
