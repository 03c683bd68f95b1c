package dev.opensandbox.runtime.docker;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The little of the tar format the Engine's archive API needs: one file (with the directories
 * leading to it) written as a stream, and the first entry of an archive read back.
 */
final class Tar {

    static final int BLOCK = 512;

    private Tar() {
    }

    /** An archive with no entries: extracting it anywhere changes nothing. */
    static InputStream empty() {
        return new ByteArrayInputStream(new byte[2 * BLOCK]);
    }

    /** An archive of directory entries only (relative, parents first, mode 0755). */
    static InputStream directories(List<String> dirs, Instant modified) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String dir : dirs) {
            writeHeader(out, dir.endsWith("/") ? dir : dir + "/", 0, 0755, modified.getEpochSecond(), '5');
        }
        out.writeBytes(new byte[2 * BLOCK]);
        return new ByteArrayInputStream(out.toByteArray());
    }

    /**
     * An archive holding the directories {@code dirs} (relative, parents first, mode 0755) and
     * then the file {@code file} (relative) with {@code size} bytes read from {@code content}.
     * Does not close {@code content}.
     */
    static InputStream singleFile(List<String> dirs, String file, InputStream content, long size, int mode,
                                  Instant modified) {
        ByteArrayOutputStream headers = new ByteArrayOutputStream();
        long mtime = modified.getEpochSecond();
        for (String dir : dirs) {
            writeHeader(headers, dir.endsWith("/") ? dir : dir + "/", 0, 0755, mtime, '5');
        }
        writeHeader(headers, file, size, mode, mtime, '0');
        int padding = (int) ((BLOCK - size % BLOCK) % BLOCK);
        List<InputStream> parts = new ArrayList<>();
        parts.add(new ByteArrayInputStream(headers.toByteArray()));
        parts.add(new ExactLength(content, size));
        parts.add(new ByteArrayInputStream(new byte[padding + 2 * BLOCK]));
        return new SequenceInputStream(Collections.enumeration(parts));
    }

    private static void writeHeader(ByteArrayOutputStream out, String name, long size, int mode, long mtime,
                                    char type) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > 100) {
            // A PAX extended header carries the long path.
            byte[] record = paxRecord("path", name);
            writeHeader(out, "././@PaxHeader", record.length, 0644, mtime, 'x');
            out.writeBytes(record);
            out.writeBytes(new byte[(BLOCK - record.length % BLOCK) % BLOCK]);
            nameBytes = truncate(nameBytes, 100);
        }
        byte[] header = new byte[BLOCK];
        System.arraycopy(nameBytes, 0, header, 0, nameBytes.length);
        octal(header, 100, 8, mode);
        octal(header, 108, 8, 0);
        octal(header, 116, 8, 0);
        octal(header, 124, 12, size);
        octal(header, 136, 12, mtime);
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        header[156] = (byte) type;
        byte[] magic = "ustar\u000000".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(magic, 0, header, 257, magic.length);
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        byte[] checksum = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(checksum, 0, header, 148, 8);
        out.writeBytes(header);
    }

    private static byte[] paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int bodyLength = body.getBytes(StandardCharsets.UTF_8).length;
        int length = bodyLength + 1;
        while (length != bodyLength + String.valueOf(length).length()) {
            length = bodyLength + String.valueOf(length).length();
        }
        return (length + body).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] truncate(byte[] bytes, int length) {
        byte[] copy = new byte[length];
        System.arraycopy(bytes, 0, copy, 0, length);
        return copy;
    }

    private static void octal(byte[] header, int offset, int length, long value) {
        String text = String.format("%0" + (length - 1) + "o", value);
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, header, offset, bytes.length);
        header[offset + length - 1] = 0;
    }

    /** The first real entry of an archive (PAX and GNU long-name records are applied and skipped). */
    record Entry(String name, long size, int mode, char type, Instant modified) {
        boolean directory() {
            return type == '5';
        }

        boolean regularFile() {
            return type == '0' || type == '\0' || type == '7';
        }
    }

    /** Reads headers up to the first real entry; {@code in} is then positioned at its content. */
    static Entry readEntry(InputStream in) throws IOException {
        String longName = null;
        while (true) {
            byte[] header = in.readNBytes(BLOCK);
            if (header.length < BLOCK || isZero(header)) {
                throw new EOFException("archive has no entry");
            }
            char type = (char) header[156];
            long size = parseNumber(header, 124, 12);
            if (type == 'x' || type == 'g' || type == 'L') {
                byte[] data = in.readNBytes((int) size);
                skipFully(in, (BLOCK - size % BLOCK) % BLOCK);
                if (type == 'L') {
                    longName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                } else if (type == 'x') {
                    String path = paxValue(new String(data, StandardCharsets.UTF_8), "path");
                    if (path != null) {
                        longName = path;
                    }
                }
                continue;
            }
            String name = longName != null ? longName : cString(header, 0, 100);
            String prefix = cString(header, 345, 155);
            if (longName == null && !prefix.isEmpty() && new String(header, 257, 5, StandardCharsets.US_ASCII).equals("ustar")) {
                name = prefix + "/" + name;
            }
            int mode = (int) parseNumber(header, 100, 8) & 07777;
            long mtime = parseNumber(header, 136, 12);
            return new Entry(name, size, mode, type, Instant.ofEpochSecond(mtime));
        }
    }

    private static String paxValue(String records, String key) {
        for (String line : records.split("\n")) {
            int space = line.indexOf(' ');
            int equals = line.indexOf('=');
            if (space > 0 && equals > space && line.substring(space + 1, equals).equals(key)) {
                return line.substring(equals + 1);
            }
        }
        return null;
    }

    private static long parseNumber(byte[] header, int offset, int length) {
        if ((header[offset] & 0x80) != 0) {
            // base-256 (GNU) encoding for large values
            long value = header[offset] & 0x7f;
            for (int i = offset + 1; i < offset + length; i++) {
                value = (value << 8) | (header[i] & 0xff);
            }
            return value;
        }
        String text = cString(header, offset, length).trim();
        return text.isEmpty() ? 0 : Long.parseLong(text, 8);
    }

    private static String cString(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static void skipFully(InputStream in, long count) throws IOException {
        long remaining = count;
        while (remaining > 0) {
            long skipped = in.skip(remaining);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new EOFException("truncated archive");
                }
                skipped = 1;
            }
            remaining -= skipped;
        }
    }

    /** Exactly {@code length} bytes of {@code in}: fails if it ends early, never reads past. Closing does not close {@code in}. */
    static class ExactLength extends FilterInputStream {
        private long remaining;

        ExactLength(InputStream in, long length) {
            super(in);
            this.remaining = length;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = super.read();
            if (b < 0) {
                throw new EOFException("content ended " + remaining + " bytes early");
            }
            remaining--;
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = super.read(buffer, offset, (int) Math.min(length, remaining));
            if (n < 0) {
                throw new EOFException("content ended " + remaining + " bytes early");
            }
            remaining -= n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(Math.min(n, remaining));
            remaining -= skipped;
            return skipped;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(super.available(), remaining);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        @Override
        public void close() {
            // the owner closes the underlying stream
        }
    }
}
