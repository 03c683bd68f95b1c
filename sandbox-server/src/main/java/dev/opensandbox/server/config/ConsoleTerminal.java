package dev.opensandbox.server.config;

import java.io.Console;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link Terminal} on {@link System#console()}. The read runs on a daemon thread so that a timeout
 * can give up on it; the blocked thread then never keeps the JVM alive.
 */
final class ConsoleTerminal implements Terminal {
    private final Console console = System.console();

    @Override
    public boolean interactive() {
        if (console == null) {
            return false;
        }
        // From Java 22 System.console() may exist without a terminal; isTerminal() tells (absent before 22).
        try {
            Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    @Override
    public void print(String text) {
        if (console != null) {
            console.writer().print(text);
            console.flush();
        }
    }

    @Override
    public Optional<String> readLine(Duration timeout) {
        if (console == null) {
            return Optional.empty();
        }
        CompletableFuture<String> line = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                String read = console.readLine();
                // End of input is an answer (not YES), not a timeout.
                line.complete(read == null ? "" : read);
            } catch (RuntimeException e) {
                line.completeExceptionally(e);
            }
        }, "startup-confirmation-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            return Optional.of(line.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("");
        } catch (ExecutionException e) {
            return Optional.of("");
        }
    }
}
