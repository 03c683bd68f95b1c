package dev.opensandbox.runtime.docker;

import com.github.dockerjava.transport.DockerHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine transport's waits and connection handling against a {@link FakeEngine}, with a
 * 300 ms {@code api_timeout}. Bounds in {@link #BOUND} only tell "bounded" from "hangs".
 */
class EngineTransportTest {

    private static final Duration API_TIMEOUT = Duration.ofMillis(300);
    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path directory;
    private FakeEngine engine;
    private EngineTransport transport;

    @AfterEach
    void stop() throws IOException {
        if (transport != null) {
            transport.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    /** {@code fake}, with {@link #transport} on a pool of {@code connections} connections to it. */
    private FakeEngine connect(FakeEngine fake, int connections) {
        engine = fake;
        transport = new EngineTransport(URI.create(fake.dockerHost()), null, API_TIMEOUT,
            new EngineTransport.Pool("stream", connections, Duration.ofMillis(200)));
        return fake;
    }

    private FakeEngine connect() throws IOException {
        return connect(new FakeEngine(directory), 4);
    }

    private static DockerHttpClient.Request call(DockerHttpClient.Request.Method method, String path) {
        return DockerHttpClient.Request.builder().method(method).path(path).build();
    }

    private static DockerHttpClient.Request get(String path) {
        return call(DockerHttpClient.Request.Method.GET, path);
    }

    private static String body(DockerHttpClient.Response response) throws IOException {
        try (response; InputStream body = response.getBody()) {
            return new String(body.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private EngineFault fault(DockerHttpClient.Request request) {
        return assertTimeoutPreemptively(BOUND, () -> assertThrows(EngineFault.class, () -> transport.execute(request)));
    }

    @Test
    void classifiesStreamsAndCallsTheEngineAnswersOnlyWhenDone() {
        assertEquals(EngineTransport.Wait.STREAM, EngineTransport.waitFor("POST", "/exec/abc/start"));
        assertEquals(EngineTransport.Wait.STREAM, EngineTransport.waitFor("POST", "/v1.41/exec/abc/start"));
        assertEquals(EngineTransport.Wait.STREAM, EngineTransport.waitFor("POST", "/images/create?fromImage=busybox&tag=1"));
        assertEquals(EngineTransport.Wait.STREAM, EngineTransport.waitFor("GET", "/containers/c/logs?follow=1&stdout=1"));
        assertEquals(EngineTransport.Wait.ANSWER, EngineTransport.waitFor("GET", "/containers/c/logs?stdout=1&follow=false"));
        assertEquals(EngineTransport.Wait.STREAM, EngineTransport.waitFor("GET", "/containers/c/stats"));
        assertEquals(EngineTransport.Wait.ANSWER, EngineTransport.waitFor("GET", "/containers/c/stats?stream=false"));
        assertEquals(EngineTransport.Wait.STREAM, EngineTransport.waitFor("GET", "/events?since=1"));
        assertEquals(EngineTransport.Wait.LONG_ANSWER, EngineTransport.waitFor("POST", "/commit?container=c"));
        assertEquals(EngineTransport.Wait.ANSWER, EngineTransport.waitFor("GET", "/containers/json?all=1"));
        assertEquals(EngineTransport.Wait.ANSWER, EngineTransport.waitFor("POST", "/containers/create?name=x"));
        assertEquals(EngineTransport.Wait.ANSWER, EngineTransport.waitFor("GET", "/containers/exec-start/json"));
    }

    @Test
    void aStreamMustSendItsHeadWithinTheApiTimeout() throws IOException {
        connect().hang();

        EngineFault fault = fault(call(DockerHttpClient.Request.Method.POST, "/exec/e1/start"));

        assertEquals(EngineFault.Kind.TIMEOUT, fault.kind());
        assertTrue(fault.getMessage().contains("POST /exec/e1/start within 0.3 s"), fault.getMessage());
    }

    @Test
    void aStreamMayStaySilentAfterItsHead() throws Exception {
        connect().behave((request, connection) -> {
            connection.streamHead();
            Thread.sleep(API_TIMEOUT.toMillis() * 3);
            connection.write("late output");
            connection.close();
        });

        String output = assertTimeoutPreemptively(BOUND,
            () -> body(transport.execute(call(DockerHttpClient.Request.Method.POST, "/exec/e1/start"))));

        assertEquals("late output", output);
    }

    @Test
    void anAnswerMayArriveSlowlyAsLongAsNoWaitExceedsTheApiTimeout() throws Exception {
        connect().behave((request, connection) -> {
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
            for (String part : new String[] {"one", "two", "six"}) {
                Thread.sleep(API_TIMEOUT.toMillis() / 2);
                connection.write(part);
            }
        });

        assertEquals("onetwosix", assertTimeoutPreemptively(BOUND, () -> body(transport.execute(get("/slow")))));
    }

    @Test
    void anAnswerThatStallsMidwayIsATimeoutOfTheEngine() throws Exception {
        connect().behave((request, connection) -> {
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
            Thread.sleep(BOUND.toMillis());
        });

        DockerHttpClient.Response response = transport.execute(get("/containers/json"));
        EngineFault.InStream stalled = assertTimeoutPreemptively(BOUND,
            () -> assertThrows(EngineFault.InStream.class, () -> body(response)));

        assertEquals(EngineFault.Kind.TIMEOUT, stalled.kind());
        assertTrue(stalled.getMessage().contains("stopped sending its answer to GET /containers/json"), stalled.getMessage());
    }

    @Test
    void anAnswerCutShortIsAnUnavailableEngine() throws Exception {
        connect().behave((request, connection) -> {
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
            connection.close();
        });

        DockerHttpClient.Response response = transport.execute(get("/containers/json"));
        EngineFault.InStream cut = assertThrows(EngineFault.InStream.class, () -> body(response));

        assertEquals(EngineFault.Kind.UNAVAILABLE, cut.kind());
    }

    @Test
    void anAnswerCutInsideItsHeadIsAnUnavailableEngineNotAnEmptySuccess() throws Exception {
        connect().behave((request, connection) -> {
            connection.write("HTTP/1.1 201");
            connection.close();
        });

        EngineFault cut = fault(call(DockerHttpClient.Request.Method.POST, "/containers/create?name=x"));

        assertEquals(EngineFault.Kind.UNAVAILABLE, cut.kind());
        assertTrue(cut.getMessage().contains("POST /containers/create"), cut.getMessage());
    }

    @Test
    void aCommitMayTakeLongerThanTheApiTimeout() throws Exception {
        connect().behave((request, connection) -> {
            Thread.sleep(API_TIMEOUT.toMillis() * 3);
            connection.answer(201, "{\"Id\":\"sha256:1\"}");
        });

        assertEquals("{\"Id\":\"sha256:1\"}", assertTimeoutPreemptively(BOUND,
            () -> body(transport.execute(call(DockerHttpClient.Request.Method.POST, "/commit?container=c")))));
    }

    @Test
    void answersThatWereReadLeaveTheirConnectionForTheNextCall() throws Exception {
        connect().answerAll("[]");

        for (int i = 0; i < 5; i++) {
            assertEquals("[]", body(transport.execute(get("/containers/json"))));
        }
        transport.execute(call(DockerHttpClient.Request.Method.DELETE, "/containers/c")).close();

        assertEquals(1, engine.connectionsAccepted());
    }

    @Test
    void aGetOnAConnectionThatDiesBeforeAnsweringIsSentOnceMoreAndAPostIsNot() throws Exception {
        // Each connection answers its first request and drops the second unanswered, as a pooled
        // connection does when the engine goes away between the pool's check and the request.
        connect().behave(new FakeEngine.Behaviour() {
            private final java.util.Set<FakeEngine.Connection> answeredOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();

            @Override
            public void handle(FakeEngine.Request request, FakeEngine.Connection connection) throws IOException {
                if (answeredOnce.add(connection)) {
                    connection.answer(200, "[]");
                } else {
                    connection.close();
                }
            }
        });
        assertEquals("[]", body(transport.execute(get("/containers/json"))));

        assertEquals("[]", body(transport.execute(get("/containers/json"))));
        assertEquals(2, engine.connectionsAccepted());

        EngineFault post = assertThrows(EngineFault.class,
            () -> transport.execute(call(DockerHttpClient.Request.Method.POST, "/containers/c/pause")));
        assertEquals(EngineFault.Kind.UNAVAILABLE, post.kind());
        assertEquals(2, engine.connectionsAccepted(), "the POST was not sent again");
    }

    @Test
    void aFullPoolIsBusyAfterItsLeaseWaitNamingThePool() throws Exception {
        FakeEngine fake = connect(new FakeEngine(directory), 2);
        fake.behave(fake.heldStream());
        DockerHttpClient.Request attach = call(DockerHttpClient.Request.Method.POST, "/exec/e1/start");
        transport.execute(attach);
        transport.execute(attach);

        EngineFault busy = fault(attach);

        assertEquals(EngineFault.Kind.BUSY, busy.kind());
        assertTrue(busy.getMessage().contains("all 2 stream connections"), busy.getMessage());
    }

    @Test
    void aClosedStreamGivesItsConnectionBackAtOnce() throws Exception {
        FakeEngine fake = connect(new FakeEngine(directory), 1);
        fake.behave(fake.heldStream());
        DockerHttpClient.Request attach = call(DockerHttpClient.Request.Method.POST, "/exec/e1/start");
        transport.execute(attach).close();

        transport.execute(attach).close();

        assertEquals(2, fake.received().size());
    }

    @Test
    void tcpEnginesHaveTheSameBounds() throws Exception {
        connect(new FakeEngine(), 4).answerAll("[]");
        assertEquals("[]", body(transport.execute(get("/containers/json"))));

        engine.hang();
        assertEquals(EngineFault.Kind.TIMEOUT, fault(get("/containers/json")).kind());
    }

    @Test
    void aMissingSocketIsAnUnavailableEngineNamingThePath() throws IOException {
        connect().vanish();

        EngineFault fault = fault(get("/containers/json"));

        assertEquals(EngineFault.Kind.UNAVAILABLE, fault.kind());
        assertTrue(fault.getMessage().contains(directory.resolve("engine.sock").toString()), fault.getMessage());
    }
}
