package dev.opensandbox.it.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A client of one server's lifecycle API on loopback, with its API key; every call bounded in time. */
public final class Api {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final String apiKey;
    private final Duration timeout;
    private final HttpClient http;

    public Api(int port, String apiKey, Duration timeout) {
        this.base = "http://127.0.0.1:" + port;
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** An answer: status and body. */
    public record Reply(int status, String body) {
        public JsonNode json() {
            return parse(body);
        }
    }

    public static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    /** Base URL, e.g. {@code http://127.0.0.1:8080}. */
    public String base() {
        return base;
    }

    public HttpClient http() {
        return http;
    }

    /** A request to {@code path} with the API key and a JSON content type. */
    public HttpRequest.Builder request(String method, String path, String body) {
        return HttpRequest.newBuilder(URI.create(base + path))
            .timeout(timeout)
            .header("OPEN-SANDBOX-API-KEY", apiKey)
            .header("Content-Type", "application/json")
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    }

    /** Sends and reads the whole answer; an I/O failure or timeout is an {@link UncheckedIOException}. */
    public Reply call(String method, String path, String body) {
        try {
            HttpResponse<String> response = http.send(request(method, path, body).build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** True when {@code GET /health} answers 200. */
    public boolean healthy() {
        try {
            return call("GET", "/health", null).status() == 200;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
