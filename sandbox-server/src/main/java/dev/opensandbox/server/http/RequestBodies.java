package dev.opensandbox.server.http;

import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletRequest;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.HttpChannel;
import org.eclipse.jetty.server.Request;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * Reads the body of a JSON API request, bounded in size and in time. The size is counted as the
 * bytes arrive, so a chunked body cannot pass the limit either, and reading stops at the limit
 * (the rest is never read: the connection is closed after the 413). While the body is read the
 * connection's idle timeout is the short body-read timeout, so a body that stops arriving (a
 * {@code Content-Length} larger than what is sent) is answered at once with 408 instead of holding
 * a request thread for the keep-alive timeout. Read once per request; later calls get the same bytes.
 */
final class RequestBodies {

    private static final String READ_ATTRIBUTE = "opensandbox.body";

    private final long maxBytes;
    private final Duration readTimeout;

    RequestBodies(long maxBytes, Duration readTimeout) {
        this.maxBytes = maxBytes;
        this.readTimeout = readTimeout;
    }

    byte[] read(Context ctx) {
        byte[] cached = ctx.attribute(READ_ATTRIBUTE);
        if (cached != null) {
            return cached;
        }
        byte[] body = readOnce(ctx);
        ctx.attribute(READ_ATTRIBUTE, body);
        return body;
    }

    private byte[] readOnce(Context ctx) {
        HttpServletRequest req = ctx.req();
        long declared = req.getContentLengthLong();
        if (declared > maxBytes) {
            throw tooLarge(ctx);
        }
        Request base = Request.getBaseRequest(req);
        HttpChannel channel = base == null ? null : base.getHttpChannel();
        long previousTimeout = channel == null ? -1 : channel.getIdleTimeout();
        if (channel != null) {
            channel.setIdleTimeout(Math.min(readTimeout.toMillis(), previousTimeout > 0 ? previousTimeout : Long.MAX_VALUE));
        }
        try {
            InputStream in = req.getInputStream();
            ByteArrayOutputStream body = new ByteArrayOutputStream(declared > 0 ? (int) declared : 256);
            byte[] buffer = new byte[8192];
            long total = 0;
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                total += n;
                if (total > maxBytes) {
                    throw tooLarge(ctx);
                }
                body.write(buffer, 0, n);
            }
            return body.toByteArray();
        } catch (IOException e) {
            ctx.header("Connection", "close");
            if (timedOut(e)) {
                throw new ErrorResponses.ApiRejection(408, HttpErrors.REQUEST_TIMEOUT,
                    "The request body stopped arriving: no bytes for " + readTimeout.toMillis() + " ms"
                        + (declared > 0 ? " (Content-Length announced " + declared + " bytes)." : "."));
            }
            throw new ErrorResponses.ApiRejection(400, HttpErrors.BAD_REQUEST, "The request body ended early"
                + (declared > 0 ? " (Content-Length announced " + declared + " bytes)." : " (incomplete chunked body)."));
        } finally {
            if (channel != null && previousTimeout > 0) {
                channel.setIdleTimeout(previousTimeout);
            }
        }
    }

    private ErrorResponses.ApiRejection tooLarge(Context ctx) {
        // What is left of the body is not read: the connection cannot carry another request.
        ctx.header("Connection", "close");
        return new ErrorResponses.ApiRejection(413, HttpErrors.REQUEST_TOO_LARGE,
            "The request body is larger than " + maxBytes + " bytes (server.max_request_body_bytes).");
    }

    private static boolean timedOut(IOException error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException || t instanceof java.net.SocketTimeoutException) {
                return true;
            }
            if (t instanceof EofException) {
                return false;
            }
        }
        return false;
    }
}
