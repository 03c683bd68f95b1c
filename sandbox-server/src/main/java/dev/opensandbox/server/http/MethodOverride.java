package dev.opensandbox.server.http;

import jakarta.servlet.http.HttpServletRequest;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;

import java.util.List;

/**
 * No header changes the method of a request. Javalin routes by {@code X-HTTP-Method-Override}
 * when present (a GET carrying {@code DELETE} would delete), so Jetty takes the header out of the
 * request before Javalin sees it. The reverse proxy still passes it on to the sandbox, whose
 * business it is: {@link ProxyHeaders#of} adds it back from the request attribute kept here.
 */
final class MethodOverride implements HttpConfiguration.Customizer {

    static final String HEADER = "X-HTTP-Method-Override";
    private static final String REMOVED_ATTRIBUTE = "opensandbox.methodOverride";

    @Override
    public void customize(Connector connector, HttpConfiguration configuration, Request request) {
        HttpFields fields = request.getHttpFields();
        if (fields != null && fields.contains(HEADER)) {
            request.setAttribute(REMOVED_ATTRIBUTE, List.copyOf(fields.getValuesList(HEADER)));
            request.setHttpFields(HttpFields.build(fields).remove(HEADER));
        }
    }

    /** The header's values as the client sent them (none when absent), for the proxy. */
    static List<String> removed(HttpServletRequest request) {
        @SuppressWarnings("unchecked")
        List<String> values = (List<String>) request.getAttribute(REMOVED_ATTRIBUTE);
        return values == null ? List.of() : values;
    }
}
