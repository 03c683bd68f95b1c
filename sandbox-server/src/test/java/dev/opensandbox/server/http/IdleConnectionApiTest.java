package dev.opensandbox.server.http;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@code [server] timeout_keep_alive} reaches the listener: an idle keep-alive connection is closed after it. */
class IdleConnectionApiTest {

    private static final Duration IDLE = Duration.ofSeconds(1);

    @AutoClose
    static final ApiTestServer api = ApiTestServer.builder()
        .settings(s -> new HttpSettings(s.apiKey(), s.corsAllowedOrigins(), s.eip(), 1024, IDLE, 2048, 200))
        .start();

    @Test
    void anIdleKeepAliveConnectionIsClosedAfterTheConfiguredTimeout() throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), api.port())) {
            // Well beyond the one second configured, well below Jetty's default of 30 s.
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            long started = System.nanoTime();
            try {
                while (in.read() != -1) {
                    // the response, then nothing until the server closes the idle connection
                }
            } catch (SocketTimeoutException e) {
                fail("the idle connection was still open after 10 s");
            }
            Duration open = Duration.ofNanos(System.nanoTime() - started);
            assertTrue(open.compareTo(Duration.ofSeconds(5)) < 0, "closed after " + open);
        }
    }
}
