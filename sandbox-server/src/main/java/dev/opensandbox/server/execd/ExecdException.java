package dev.opensandbox.server.execd;

/**
 * An error of the execd API, answered as {@code {code, message}} with the execd's own code
 * strings ({@code INVALID_REQUEST_BODY}, {@code FILE_NOT_FOUND}, {@code RUNTIME_ERROR}, ...),
 * which differ from the lifecycle API's namespaced codes.
 */
final class ExecdException extends RuntimeException {

    static final String INVALID_REQUEST = "INVALID_REQUEST_BODY";
    static final String MISSING_QUERY = "MISSING_QUERY";
    static final String FILE_NOT_FOUND = "FILE_NOT_FOUND";
    static final String INVALID_FILE = "INVALID_FILE";
    static final String INVALID_FILE_METADATA = "INVALID_FILE_METADATA";
    static final String RUNTIME_ERROR = "RUNTIME_ERROR";
    static final String NOT_IMPLEMENTED = "NOT_IMPLEMENTED";
    static final String NOT_FOUND = "NOT_FOUND";
    /** Ours: the sandbox refused a file change for lack of permission (403). */
    static final String PERMISSION_DENIED = "PERMISSION_DENIED";

    final int status;
    final String code;

    ExecdException(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    static ExecdException badRequest(String message) {
        return new ExecdException(400, INVALID_REQUEST, message);
    }

    static ExecdException missingQuery(String name) {
        return new ExecdException(400, MISSING_QUERY, "missing query parameter '" + name + "'");
    }

    static ExecdException fileNotFound(String path) {
        return new ExecdException(404, FILE_NOT_FOUND, "file not found: " + path);
    }

    static ExecdException runtimeError(String message) {
        return new ExecdException(500, RUNTIME_ERROR, message);
    }
}
