package dev.opensandbox.server.http;

import org.eclipse.jetty.http.BadMessageException;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;

/**
 * A request path whose percent-escapes are not all {@code %} and two hex digits is refused with
 * 400 before routing. Jetty lets some through (its legacy {@code %uXXXX} form among them), and
 * Javalin's decoding of path parameters then fails with an unexpected exception: a 500 for a
 * client's typo.
 */
final class PercentEncoding implements HttpConfiguration.Customizer {

    @Override
    public void customize(Connector connector, HttpConfiguration configuration, Request request) {
        String path = request.getHttpURI() == null ? null : request.getHttpURI().getPath();
        if (path != null && !wellFormed(path)) {
            throw new BadMessageException(400, "Invalid percent-encoding in the request path");
        }
    }

    static boolean wellFormed(String path) {
        for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
            if (i + 2 >= path.length() || !hex(path.charAt(i + 1)) || !hex(path.charAt(i + 2))) {
                return false;
            }
        }
        return true;
    }

    private static boolean hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
