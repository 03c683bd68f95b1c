package dev.opensandbox.runtime.docker;

import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.NamedPipeSocket;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.HttpRequestRetryStrategy;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.io.DetachedSocketFactory;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.ContentLengthStrategy;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.HttpVersion;
import org.apache.hc.core5.http.NameValuePair;
import org.apache.hc.core5.http.impl.DefaultContentLengthStrategy;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;
import org.apache.hc.core5.http.io.HttpClientConnection;
import org.apache.hc.core5.http.io.HttpResponseInformationCallback;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.net.URIAuthority;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * docker-java's HTTP transport, on httpclient5, with every wait for the engine bounded:
 * <ul>
 *   <li>a free pooled connection: at most the pool's lease wait, then {@link EngineFault.Kind#BUSY};</li>
 *   <li>connecting: {@code api_timeout};</li>
 *   <li>the answer: {@code api_timeout} for the response head and for every read of its body
 *       ({@link Wait#ANSWER}); a commit, which the engine answers only when done, gets
 *       {@link #LONG_ANSWER_MINIMUM} at least ({@link Wait#LONG_ANSWER}); a stream (exec attach,
 *       followed logs, streamed statistics, pull progress) must send its head within
 *       {@code api_timeout}, after which silence is legitimate ({@link Wait#STREAM}).</li>
 * </ul>
 * Unix sockets get a {@link UnixChannelSocket}, which honours those timeouts. Pooled connections
 * are checked before reuse (a closed peer, such as a restarted engine, is detected and the
 * connection replaced), and a GET or HEAD that fails on a broken connection is sent once more.
 * Connection failures surface as {@link EngineFault}; the engine's own error answers are left to
 * docker-java. Stdin attach (hijacking) is not supported: nothing here attaches stdin.
 */
final class EngineTransport implements DockerHttpClient {

    /** The least a {@link Wait#LONG_ANSWER} call is given, as the pull of an image is. */
    static final Duration LONG_ANSWER_MINIMUM = Duration.ofMinutes(10);

    private static final String STREAM_ATTRIBUTE = EngineTransport.class.getName() + ".stream";
    private static final Pattern VERSION_PREFIX = Pattern.compile("^/v\\d+(\\.\\d+)?(?=/)");

    /** How long a call may wait for the engine's answer. */
    enum Wait {
        /** The head and every read of the body within {@code api_timeout}. */
        ANSWER,
        /** As {@link #ANSWER}, with at least {@link #LONG_ANSWER_MINIMUM}: the engine works before answering. */
        LONG_ANSWER,
        /** The head within {@code api_timeout}; the body may then stay silent for any time. */
        STREAM
    }

    /**
     * A pool of engine connections.
     *
     * @param name           how errors name it ("control", "stream")
     * @param maxConnections the most connections open at once
     * @param leaseWait      how long a call waits for a free one before {@link EngineFault.Kind#BUSY}
     */
    record Pool(String name, int maxConnections, Duration leaseWait) {
    }

    private final HttpHost host;
    private final Pool pool;
    private final Duration apiTimeout;
    private final CloseableHttpClient http;

    /**
     * @param dockerHost {@code unix://}, {@code tcp://} or {@code npipe://} address of the engine
     * @param sslContext TLS for {@code tcp://}, or null for plain HTTP
     */
    EngineTransport(URI dockerHost, SSLContext sslContext, Duration apiTimeout, Pool pool) {
        this.pool = pool;
        this.apiTimeout = apiTimeout;
        String scheme = dockerHost.getScheme() == null ? "" : dockerHost.getScheme().toLowerCase(Locale.ROOT);
        DetachedSocketFactory sockets;
        DnsResolver dns = SystemDefaultDnsResolver.INSTANCE;
        switch (scheme) {
            case "unix" -> {
                Path path = Path.of(dockerHost.getPath());
                sockets = proxy -> new UnixChannelSocket(path);
                dns = loopbackOnly();
                host = new HttpHost("http", "localhost", 2375);
            }
            case "npipe" -> {
                String path = dockerHost.getPath();
                sockets = proxy -> new NamedPipeSocket(path);
                dns = loopbackOnly();
                host = new HttpHost("http", "localhost", 2375);
            }
            case "tcp", "http", "https" -> {
                sockets = proxy -> proxy == null ? new Socket() : new Socket(proxy);
                host = new HttpHost(sslContext != null || scheme.equals("https") ? "https" : "http",
                    dockerHost.getHost(), dockerHost.getPort());
            }
            default -> throw new IllegalArgumentException("Unsupported DOCKER_HOST scheme: " + dockerHost);
        }
        TlsSocketStrategy tls = sslContext != null ? new DefaultClientTlsStrategy(sslContext)
            : DefaultClientTlsStrategy.createSystemDefault();
        Timeout timeout = Timeout.of(apiTimeout);
        PoolingHttpClientConnectionManager connections = new PoolingHttpClientConnectionManager(
            new DefaultHttpClientConnectionOperator(sockets, null, dns, name -> "https".equalsIgnoreCase(name) ? tls : null),
            PoolConcurrencyPolicy.STRICT, PoolReusePolicy.LIFO, TimeValue.NEG_ONE_MILLISECOND,
            new ManagedHttpClientConnectionFactory(null, null, null, null, EngineTransport::bodyLength, null));
        connections.setMaxTotal(pool.maxConnections());
        connections.setDefaultMaxPerRoute(pool.maxConnections());
        connections.setDefaultSocketConfig(SocketConfig.custom().setSoTimeout(timeout).build());
        connections.setDefaultConnectionConfig(ConnectionConfig.custom()
            .setConnectTimeout(timeout)
            .setSocketTimeout(timeout)
            // Zero: every lease checks the connection (one non-blocking read on a Unix socket), so a
            // connection the engine closed, for example by restarting, is never handed out.
            .setValidateAfterInactivity(TimeValue.ZERO_MILLISECONDS)
            .build());
        this.http = HttpClients.custom()
            .setConnectionManager(connections)
            .setRequestExecutor(new StreamAwareExecutor())
            .setRetryStrategy(new RetryReadsOnce())
            .disableConnectionState()
            .disableCookieManagement()
            .disableRedirectHandling()
            .disableContentCompression()
            .disableAuthCaching()
            .build();
    }

    /** For Unix sockets and pipes the HTTP host is a placeholder: never ask DNS about it. */
    private static DnsResolver loopbackOnly() {
        return new DnsResolver() {
            @Override
            public InetAddress[] resolve(String name) {
                return new InetAddress[] {InetAddress.getLoopbackAddress()};
            }

            @Override
            public String resolveCanonicalHostname(String name) {
                return name;
            }
        };
    }

    /** docker-java's rule: {@code Transfer-Encoding: identity} means "read until the engine closes". */
    private static long bodyLength(org.apache.hc.core5.http.HttpMessage message) throws HttpException {
        Header transferEncoding = message.getFirstHeader(HttpHeaders.TRANSFER_ENCODING);
        if (transferEncoding != null && "identity".equalsIgnoreCase(transferEncoding.getValue())) {
            return ContentLengthStrategy.UNDEFINED;
        }
        return DefaultContentLengthStrategy.INSTANCE.determineLength(message);
    }

    /** How long a {@link Wait#LONG_ANSWER} call (a commit) waits for the engine's answer. */
    static Duration longAnswerWithin(Duration apiTimeout) {
        return apiTimeout.compareTo(LONG_ANSWER_MINIMUM) < 0 ? LONG_ANSWER_MINIMUM : apiTimeout;
    }

    /** Which calls stream and which make the engine work before it answers, by method and path. */
    static Wait waitFor(String method, String pathAndQuery) {
        int queryStart = pathAndQuery.indexOf('?');
        String path = VERSION_PREFIX.matcher(queryStart < 0 ? pathAndQuery : pathAndQuery.substring(0, queryStart))
            .replaceFirst("");
        String query = queryStart < 0 ? "" : pathAndQuery.substring(queryStart + 1);
        String verb = method.toUpperCase(Locale.ROOT);
        if (verb.equals("POST") && (path.matches("/exec/[^/]+/start") || path.matches("/containers/[^/]+/attach")
            || path.equals("/images/create") || path.equals("/build") || path.matches("/images/.+/push"))) {
            return Wait.STREAM;
        }
        if (verb.equals("GET") && (path.equals("/events")
            || path.matches("/containers/[^/]+/logs") && queryFlag(query, "follow", false)
            || path.matches("/containers/[^/]+/stats") && queryFlag(query, "stream", true))) {
            return Wait.STREAM;
        }
        if (verb.equals("POST") && path.equals("/commit")) {
            return Wait.LONG_ANSWER;
        }
        return Wait.ANSWER;
    }

    private static boolean queryFlag(String query, String name, boolean absent) {
        for (String pair : query.split("&")) {
            int equals = pair.indexOf('=');
            String key = equals < 0 ? pair : pair.substring(0, equals);
            if (key.equals(name)) {
                String value = equals < 0 ? "" : pair.substring(equals + 1).toLowerCase(Locale.ROOT);
                return value.equals("1") || value.equals("true");
            }
        }
        return absent;
    }

    @Override
    public Response execute(Request request) {
        if (request.hijackedInput() != null) {
            throw new UnsupportedOperationException("Attaching stdin to an engine stream is not supported");
        }
        Wait wait = waitFor(request.method(), request.path());
        Duration answerWithin = wait == Wait.LONG_ANSWER ? longAnswerWithin(apiTimeout) : apiTimeout;
        HttpUriRequestBase message = new HttpUriRequestBase(request.method(), URI.create(request.path()));
        message.setScheme(host.getSchemeName());
        message.setAuthority(new URIAuthority(host.getHostName(), host.getPort()));
        request.headers().forEach(message::addHeader);
        byte[] bodyBytes = request.bodyBytes();
        if (bodyBytes != null) {
            message.setEntity(new ByteArrayEntity(bodyBytes, null));
        } else if (request.body() != null) {
            message.setEntity(new InputStreamEntity(request.body(), null));
        }
        message.setConfig(RequestConfig.custom()
            .setConnectionRequestTimeout(Timeout.of(pool.leaseWait()))
            .setResponseTimeout(Timeout.of(answerWithin))
            .build());
        HttpClientContext context = HttpClientContext.create();
        context.setAttribute(STREAM_ATTRIBUTE, wait == Wait.STREAM);
        String call = request.method() + " " + withoutQuery(request.path());
        try {
            return new EngineResponse(message, http.executeOpen(host, message, context), wait, call, answerWithin);
        } catch (ConnectionRequestTimeoutException e) {
            throw new EngineFault(EngineFault.Kind.BUSY, "has all " + pool.maxConnections() + " " + pool.name()
                + " connections of this server in use (none free within " + seconds(pool.leaseWait()) + ")", e);
        } catch (java.net.SocketTimeoutException e) {
            throw new EngineFault(EngineFault.Kind.TIMEOUT, "did not answer " + call + " within " + seconds(answerWithin)
                + " ([docker] api_timeout)", e);
        } catch (ConnectException e) {
            throw new EngineFault(EngineFault.Kind.UNAVAILABLE, "cannot be reached (" + describe(e) + ")", e);
        } catch (IOException e) {
            throw new EngineFault(EngineFault.Kind.UNAVAILABLE, "dropped the connection during " + call + " ("
                + describe(e) + ")", e);
        }
    }

    private static String withoutQuery(String path) {
        int query = path.indexOf('?');
        return query < 0 ? path : path.substring(0, query);
    }

    static String seconds(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    @Override
    public void close() throws IOException {
        http.close();
    }

    /**
     * After a stream's head, no read timeout: a quiet command is not a hung engine. An answer that
     * is not a stream and has neither a length nor chunks was cut: the engine frames every answer
     * but its raw streams, and httpclient5 takes a head that ends with the connection for a whole
     * one (a container created, its answer lost, would otherwise read as an empty success).
     */
    private static final class StreamAwareExecutor extends HttpRequestExecutor {
        @Override
        public ClassicHttpResponse execute(ClassicHttpRequest request, HttpClientConnection connection,
                                           HttpResponseInformationCallback informationCallback, HttpContext context)
            throws IOException, HttpException {
            ClassicHttpResponse response = super.execute(request, connection, informationCallback, context);
            boolean stream = Boolean.TRUE.equals(context.getAttribute(STREAM_ATTRIBUTE));
            if (stream && response.getCode() < 300) {
                connection.setSocketTimeout(Timeout.DISABLED);
            } else if (!stream && unframed(request, response)) {
                connection.close();
                throw new ConnectionClosedException(
                    "the connection closed before the answer's head was complete");
            }
            return response;
        }

        private static boolean unframed(ClassicHttpRequest request, ClassicHttpResponse response) {
            int code = response.getCode();
            return response.getVersion() != null && response.getVersion().greaterEquals(HttpVersion.HTTP_1_1)
                && code >= 200 && code != 204 && code != 304 && !request.getMethod().equals("HEAD")
                && response.getFirstHeader(HttpHeaders.CONTENT_LENGTH) == null
                && response.getFirstHeader(HttpHeaders.TRANSFER_ENCODING) == null;
        }
    }

    /**
     * A GET or HEAD that failed on a broken connection (a pooled one the engine closed between the
     * check and the write, or one dropped mid-answer) is sent once more on another. Never after a
     * timeout (the engine is slow, not gone), a refused connect, or for other methods, whose first
     * attempt may have taken effect.
     */
    private static final class RetryReadsOnce implements HttpRequestRetryStrategy {
        @Override
        public boolean retryRequest(HttpRequest request, IOException failure, int execCount, HttpContext context) {
            String method = request.getMethod();
            return execCount <= 1 && (method.equals("GET") || method.equals("HEAD"))
                && !(failure instanceof InterruptedIOException) && !(failure instanceof ConnectException)
                && !(failure instanceof UnknownHostException) && !(failure instanceof SSLException);
        }

        @Override
        public boolean retryRequest(HttpResponse response, int execCount, HttpContext context) {
            return false;
        }

        @Override
        public TimeValue getRetryInterval(HttpRequest request, IOException failure, int execCount, HttpContext context) {
            return TimeValue.ZERO_MILLISECONDS;
        }

        @Override
        public TimeValue getRetryInterval(HttpResponse response, int execCount, HttpContext context) {
            return TimeValue.ZERO_MILLISECONDS;
        }
    }

    /**
     * An answer. Closing it returns the connection to the pool when the body was read (or what is
     * left is small), else discards the connection: draining a stream could wait forever.
     */
    private static final class EngineResponse implements Response {
        private static final int DRAIN_LIMIT = 64 * 1024;

        private final HttpUriRequestBase request;
        private final ClassicHttpResponse response;
        private final Wait wait;
        private final String call;
        private final Duration answerWithin;
        private InputStream body;

        EngineResponse(HttpUriRequestBase request, ClassicHttpResponse response, Wait wait, String call,
                       Duration answerWithin) {
            this.request = request;
            this.response = response;
            this.wait = wait;
            this.call = call;
            this.answerWithin = answerWithin;
        }

        @Override
        public int getStatusCode() {
            return response.getCode();
        }

        @Override
        public Map<String, List<String>> getHeaders() {
            return Stream.of(response.getHeaders()).collect(Collectors.groupingBy(NameValuePair::getName,
                Collectors.mapping(NameValuePair::getValue, Collectors.toList())));
        }

        @Override
        public String getHeader(String name) {
            Header header = response.getFirstHeader(name);
            return header == null ? null : header.getValue();
        }

        @Override
        public synchronized InputStream getBody() {
            if (body == null) {
                HttpEntity entity = response.getEntity();
                try {
                    body = entity == null ? InputStream.nullInputStream() : new FaultReportingBody(entity.getContent());
                } catch (IOException e) {
                    throw new EngineFault(EngineFault.Kind.UNAVAILABLE, "dropped the connection during " + call + " ("
                        + describe(e) + ")", e);
                }
            }
            return body;
        }

        @Override
        public void close() {
            boolean drained = wait != Wait.STREAM && drain();
            if (!drained) {
                request.cancel();
            }
            try {
                response.close();
            } catch (IOException | RuntimeException e) {
                // the connection is discarded either way
            }
        }

        /** Reads what is left of a short answer so its connection can be reused; false if it is long or broken. */
        private boolean drain() {
            try {
                InputStream rest = getBody();
                byte[] sink = new byte[8192];
                int total = 0;
                int n;
                while ((n = rest.read(sink)) >= 0) {
                    total += n;
                    if (total > DRAIN_LIMIT) {
                        return false;
                    }
                }
                return true;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        /** Failures while reading the answer, named as engine faults (docker-java rethrows them wrapped). */
        private final class FaultReportingBody extends FilterInputStream {
            FaultReportingBody(InputStream in) {
                super(in);
            }

            @Override
            public int read() throws IOException {
                try {
                    return super.read();
                } catch (IOException e) {
                    throw fault(e);
                }
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                try {
                    return super.read(buffer, offset, length);
                } catch (IOException e) {
                    throw fault(e);
                }
            }

            @Override
            public long skip(long n) throws IOException {
                try {
                    return super.skip(n);
                } catch (IOException e) {
                    throw fault(e);
                }
            }

            private IOException fault(IOException e) {
                if (e instanceof EngineFault.InStream) {
                    return e;
                }
                EngineFault.Kind kind = EngineFault.kindOf(e);
                return new EngineFault.InStream(kind, kind == EngineFault.Kind.TIMEOUT
                    ? "stopped sending its answer to " + call + " for " + seconds(answerWithin) + " ([docker] api_timeout)"
                    : "dropped the connection during " + call + " (" + describe(e) + ")", e);
            }
        }
    }
}
