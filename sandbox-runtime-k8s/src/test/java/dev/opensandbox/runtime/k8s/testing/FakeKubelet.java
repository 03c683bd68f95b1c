package dev.opensandbox.runtime.k8s.testing;

import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Plays the kubelet's side of pod exec for the mock API server: the command of an
 * {@code .../pods/<name>/exec?command=...} request runs as a <em>local process</em> with the
 * environment {@code env} gives for the pod, its stdout and stderr go out on channels 1 and 2 as
 * they are produced, stdin (channel 0) is fed to it, and its exit is reported on channel 3 in the
 * API server's format ({@code Success}, or {@code Failure}/{@code NonZeroExitCode} with an
 * {@code ExitCode} cause). The local filesystem stands in for the container's, so tests use
 * paths under a temporary directory.
 */
public final class FakeKubelet {

    private final Function<String, Map<String, String>> env;

    /** @param env the container environment of a pod, by pod name */
    public FakeKubelet(Function<String, Map<String, String>> env) {
        this.env = env;
    }

    /** Whether {@code path} is a pod exec request. */
    public static boolean isExec(String path) {
        return path.matches("/api/v1/namespaces/[^/]+/pods/[^/]+/exec\\?.*");
    }

    /** The WebSocket upgrade that runs the request's command. */
    public MockResponse respond(RecordedRequest request) {
        return respond(request.getPath());
    }

    /** The WebSocket upgrade that runs the command of the exec request at {@code path}. */
    public MockResponse respond(String path) {
        String pod = path.replaceAll("^/api/v1/namespaces/[^/]+/pods/([^/]+)/exec\\?.*$", "$1");
        List<String> command = new ArrayList<>();
        for (String parameter : path.substring(path.indexOf('?') + 1).split("&")) {
            if (parameter.startsWith("command=")) {
                command.add(URLDecoder.decode(parameter.substring("command=".length()), StandardCharsets.UTF_8));
            }
        }
        return new MockResponse().withWebSocketUpgrade(new Session(command, env.apply(pod)));
    }

    /** The status message of channel 3 for an exit code, as the API server writes it. */
    public static String status(int exitCode) {
        if (exitCode == 0) {
            return "{\"metadata\":{},\"status\":\"Success\"}";
        }
        return "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code: "
            + "error executing command [...], exit code " + exitCode + "\",\"reason\":\"NonZeroExitCode\","
            + "\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"" + exitCode + "\"}]}}";
    }

    private static final class Session extends WebSocketListener {
        private final List<String> command;
        private final Map<String, String> env;
        /** Stdin may arrive before the process has started: it waits for this. */
        private final CompletableFuture<Process> process = new CompletableFuture<>();

        Session(List<String> command, Map<String, String> env) {
            this.command = command;
            this.env = env;
        }

        @Override
        public void onOpen(WebSocket socket, Response response) {
            Thread runner = new Thread(() -> run(socket), "fake-kubelet-exec");
            runner.setDaemon(true);
            runner.start();
        }

        private void run(WebSocket socket) {
            try {
                ProcessBuilder builder = new ProcessBuilder(command);
                builder.environment().putAll(env);
                Process started = builder.start();
                process.complete(started);
                Thread stderr = pump(started.getErrorStream(), socket, 2);
                pump(started.getInputStream(), socket, 1).join();
                stderr.join();
                int exit = started.waitFor();
                socket.send(frame(3, status(exit).getBytes(StandardCharsets.UTF_8), 0,
                    status(exit).getBytes(StandardCharsets.UTF_8).length));
            } catch (IOException e) {
                process.completeExceptionally(e);
                String failure = "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"" + e.getMessage().replace("\"", "'")
                    + "\",\"reason\":\"InternalError\"}";
                socket.send(frame(3, failure.getBytes(StandardCharsets.UTF_8), 0, failure.length()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            socket.close(1000, "");
        }

        private static Thread pump(InputStream in, WebSocket socket, int channel) {
            Thread thread = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try {
                    for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                        socket.send(frame(channel, buffer, 0, read));
                    }
                } catch (IOException ignored) {
                    // the process is gone
                }
            }, "fake-kubelet-pump-" + channel);
            thread.setDaemon(true);
            thread.start();
            return thread;
        }

        private static byte[] frame(int channel, byte[] data, int offset, int length) {
            byte[] frame = new byte[length + 1];
            frame[0] = (byte) channel;
            System.arraycopy(data, offset, frame, 1, length);
            return frame;
        }

        @Override
        public void onMessage(WebSocket socket, ByteString bytes) {
            onMessage(socket, bytes.toByteArray());
        }

        @Override
        public void onMessage(WebSocket socket, byte[] bytes) {
            if (bytes.length == 0) {
                return;
            }
            try {
                Process current = process.get(10, TimeUnit.SECONDS);
                OutputStream stdin = current.getOutputStream();
                if (bytes[0] == 0 && bytes.length > 1) {
                    stdin.write(Arrays.copyOfRange(bytes, 1, bytes.length));
                    stdin.flush();
                } else if (bytes[0] == (byte) 255) {
                    stdin.close();
                }
            } catch (IOException | ExecutionException | TimeoutException ignored) {
                // the process did not start or no longer reads stdin
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
