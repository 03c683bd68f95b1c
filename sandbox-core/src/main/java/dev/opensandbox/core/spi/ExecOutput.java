package dev.opensandbox.core.spi;

/**
 * Receives the output of an {@link SandboxRuntime#exec} as it is produced. Called from one
 * thread at a time, in the order the bytes arrived per stream.
 */
public interface ExecOutput {

    void stdout(byte[] data, int offset, int length);

    void stderr(byte[] data, int offset, int length);
}
