// The official OpenSandbox JavaScript SDK (@alibaba-group/opensandbox, exact version pinned in
// package.json), used unchanged against this server on a real Docker engine. Run by JsSdkE2EIT.
//
// Environment:
//   OPENSANDBOX_DOMAIN            host:port of the server (the SDK appends /v1 itself)
//   OPENSANDBOX_API_KEY           the server's API key
//   OPENSANDBOX_IMAGE             an image that is already present on the engine (nothing is pulled)
//   OPENSANDBOX_RUN               a unique value stored as metadata "run" (the IT reaps by it)
//   OPENSANDBOX_USE_SERVER_PROXY  optional, default "false" (the SDK default; with the built-in execd
//                                 both resolve 44772 to the server's /sandboxes/{id}/proxy/44772)
//
// Prints one JSON line per step ({"step":..., "ok":true, ...}); on the first failure prints
// {"step":..., "ok":false, "error":...} and exits 1. Every wait is bounded; a watchdog ends the
// whole run with exit code 2 if it somehow is not.

import { readFileSync } from "node:fs";
import { Sandbox, SandboxApiException, SandboxManager } from "@alibaba-group/opensandbox";

const EXPECTED_SDK_VERSION = "0.1.11";
const STEP_LIMIT_MS = 60_000;
const WATCHDOG_MS = 170_000;

// Telemetry (a fire-and-forget POST /v1/metrics/events after create) is off: the env switch is read
// by the SDK at call time, and the connection option below says the same thing.
process.env.OPENSANDBOX_DISABLE_METRICS = "1";

const watchdog = setTimeout(() => {
  emit({ step: "watchdog", ok: false, error: `the scenario did not finish within ${WATCHDOG_MS} ms` });
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

function emit(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is required`);
  }
  return value;
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/** Bounds a promise that the SDK itself does not bound (or bounds more loosely than we want). */
async function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls the sandbox until it reports the wanted state; returns the states seen on the way. */
async function awaitState(sandbox, wanted, limitMs) {
  const deadline = Date.now() + limitMs;
  const seen = [];
  for (;;) {
    const state = (await sandbox.getInfo()).status.state;
    if (seen[seen.length - 1] !== state) {
      seen.push(state);
    }
    if (state === wanted) {
      return seen;
    }
    if (Date.now() > deadline) {
      throw new Error(`state did not become ${wanted} within ${limitMs} ms (seen: ${seen.join(" → ")})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function stdoutOf(execution) {
  return execution.logs.stdout.map((m) => m.text).join("");
}

function describe(err) {
  const out = { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  if (err instanceof SandboxApiException) {
    out.status = err.statusCode;
    out.code = err.error?.code;
    out.requestId = err.requestId;
  }
  if (err instanceof Error && err.cause) {
    out.cause = err.cause instanceof Error ? err.cause.message : String(err.cause);
  }
  return out;
}

let current = "setup";
let sandbox;
let killed = false;
let manager;

async function main() {
  const sdkVersion = JSON.parse(readFileSync(
    new URL("./node_modules/@alibaba-group/opensandbox/package.json", import.meta.url), "utf8")).version;
  check(sdkVersion === EXPECTED_SDK_VERSION, `expected SDK ${EXPECTED_SDK_VERSION}, found ${sdkVersion}`);
  const useServerProxy = (process.env.OPENSANDBOX_USE_SERVER_PROXY ?? "false") === "true";
  const connectionConfig = {
    domain: requiredEnv("OPENSANDBOX_DOMAIN"),
    protocol: "http",
    apiKey: requiredEnv("OPENSANDBOX_API_KEY"),
    requestTimeoutSeconds: 30,
    useServerProxy,
    disableMetrics: true,
  };
  const image = requiredEnv("OPENSANDBOX_IMAGE");
  const run = requiredEnv("OPENSANDBOX_RUN");
  const metadata = { run, team: "js" };
  emit({ step: "setup", ok: true, sdkVersion, node: process.version, useServerProxy });

  current = "create";
  const start = Date.now();
  sandbox = await within(90_000, "Sandbox.create", Sandbox.create({
    connectionConfig,
    image,
    entrypoint: ["sleep", "3600"],
    resource: { cpu: "500m", memory: "128Mi" },
    metadata,
    timeoutSeconds: 600,
    readyTimeoutSeconds: 60,
  }));
  const readyMs = Date.now() - start;
  const execdEndpoint = (await sandbox.getEndpoint(44772)).endpoint;
  emit({ step: "create", ok: true, id: sandbox.id, readyMs, execdEndpoint });

  current = "command";
  let firstOutputMs;
  const execution = await sandbox.commands.run("echo hello-from-js", undefined, {
    onStdout: () => {
      firstOutputMs ??= Date.now() - start;
    },
  }, AbortSignal.timeout(STEP_LIMIT_MS));
  check(stdoutOf(execution).trim() === "hello-from-js", `stdout was ${JSON.stringify(stdoutOf(execution))}`);
  check(execution.exitCode === 0, `exit code was ${execution.exitCode} (error: ${JSON.stringify(execution.error)})`);
  emit({ step: "command", ok: true, stdout: stdoutOf(execution).trim(), exitCode: execution.exitCode });

  current = "file";
  const content = "written by the JS SDK\n";
  await within(STEP_LIMIT_MS, "writeFiles", sandbox.files.writeFiles([{ path: "/tmp/js-file.txt", data: content }]));
  const readBack = await within(STEP_LIMIT_MS, "readFile", sandbox.files.readFile("/tmp/js-file.txt"));
  check(readBack === content, `read back ${JSON.stringify(readBack)}`);
  emit({ step: "file", ok: true, path: "/tmp/js-file.txt", bytes: Buffer.byteLength(readBack) });

  current = "list";
  manager = SandboxManager.create({ connectionConfig });
  const page = await manager.listSandboxInfos({ states: ["Running"], metadata, pageSize: 10 });
  const ids = page.items.map((item) => item.id);
  check(ids.length === 1 && ids[0] === sandbox.id, `listed ${JSON.stringify(ids)}, wanted [${sandbox.id}]`);
  emit({ step: "list", ok: true, ids });

  current = "renew";
  const before = (await sandbox.getInfo()).expiresAt;
  check(before instanceof Date, `expiresAt before renew was ${before}`);
  await sandbox.renew(1800);
  const after = (await sandbox.getInfo()).expiresAt;
  check(after instanceof Date && after > before, `expiresAt did not move later: ${before?.toISOString()} → ${after?.toISOString?.()}`);
  emit({ step: "renew", ok: true, before: before.toISOString(), after: after.toISOString() });

  current = "pause";
  await sandbox.pause();
  const pausing = await awaitState(sandbox, "Paused", 30_000);
  emit({ step: "pause", ok: true, states: pausing });

  current = "resume";
  // resume() posts /resume, then connects afresh (endpoint lookup and the execd ping loop).
  const resumed = await within(90_000, "resume", sandbox.resume({ readyTimeoutSeconds: 60 }));
  const resuming = await awaitState(resumed, "Running", 30_000);
  emit({ step: "resume", ok: true, states: resuming });

  current = "command-again";
  const again = await resumed.commands.run("echo hello-again", undefined, undefined, AbortSignal.timeout(STEP_LIMIT_MS));
  check(stdoutOf(again).trim() === "hello-again", `stdout was ${JSON.stringify(stdoutOf(again))}`);
  emit({ step: "command-again", ok: true, stdout: stdoutOf(again).trim(), exitCode: again.exitCode });

  current = "kill";
  await resumed.kill();
  killed = true;
  emit({ step: "kill", ok: true });

  current = "gone";
  let rejection;
  try {
    const info = await sandbox.getInfo();
    rejection = new Error(`getInfo after kill still answered, state ${info.status?.state}`);
  } catch (err) {
    check(err instanceof SandboxApiException, `getInfo after kill failed with ${describe(err).error}`);
    check(err.statusCode === 404, `getInfo after kill answered status ${err.statusCode}`);
    emit({ step: "gone", ok: true, status: err.statusCode, code: err.error?.code });
  }
  if (rejection) {
    throw rejection;
  }

  current = "timing";
  emit({ step: "timing", ok: true, createToReadyMs: readyMs, createToFirstOutputMs: firstOutputMs });
}

async function cleanUp() {
  if (sandbox && !killed) {
    await within(15_000, "cleanup kill", sandbox.kill()).catch(() => undefined);
  }
  await Promise.allSettled([sandbox?.close(), manager?.close()]);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  emit({ step: current, ok: false, ...describe(err) });
  exitCode = 1;
} finally {
  await within(20_000, "cleanup", cleanUp()).catch(() => undefined);
}
process.exit(exitCode);
