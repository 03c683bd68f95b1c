package dev.opensandbox.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * The errors Jetty answers itself, before or outside Javalin's routes: requests its parser
 * refuses (400, 414, 431, 505), WebSocket upgrades without a route (404), and anything that
 * calls {@code sendError}. Jetty's default writes HTML pages; this writes {@code {code, message}}
 * JSON with a fresh {@code X-Request-ID}, for every method, as every other error of the server.
 * Registered on both the server (parser errors) and the servlet context (dispatch errors).
 */
final class JsonErrorHandler extends ErrorHandler {

    private final ObjectMapper mapper;

    JsonErrorHandler(ObjectMapper mapper) {
        this.mapper = mapper;
        setShowStacks(false);
        setShowServlet(false);
    }

    /** Jetty writes no error body for PUT, DELETE, PATCH... by default; every method gets one here. */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    public void handle(String target, Request baseRequest, HttpServletRequest request, HttpServletResponse response)
        throws IOException {
        baseRequest.setHandled(true);
        int status = response.getStatus();
        String detail = (String) request.getAttribute(RequestDispatcher.ERROR_MESSAGE);
        byte[] body = body(status, detail);
        response.setHeader(HttpHeader.CACHE_CONTROL.asString(), getCacheControl());
        if (response.getHeader(Filters.REQUEST_ID_HEADER) == null) {
            response.setHeader(Filters.REQUEST_ID_HEADER, Filters.newRequestId());
        }
        response.setContentType("application/json");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        fields.put(Filters.REQUEST_ID_HEADER, Filters.newRequestId());
        return ByteBuffer.wrap(body(status, reason));
    }

    private byte[] body(int status, String detail) {
        try {
            return mapper.writeValueAsBytes(new Responses.ErrorBody(HttpErrors.code(status),
                HttpErrors.message(status, detail)));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
