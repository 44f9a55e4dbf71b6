import crypto from "node:crypto";
import net from "node:net";
import { describe, expect, inject, it } from "vitest";
import { newTenant } from "./api";
import { createProjectWithCompute } from "./compute";
import { connectProxy, proxyPort } from "./proxy";

// Hostile input at the handshake for 30 s: random bytes, truncated and oversized packets, broken
// responses. Every connection must end in an error packet or a close, and the proxy must stay up with
// flat memory.

const FUZZ_MS = Number(process.env.PROXY_FUZZ_MS ?? 30_000);
const CONCURRENCY = 24;

async function proxyRss(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${inject("metricsPort")}/metrics`)).text();
  const m = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  if (!m) throw new Error("no process_resident_memory_bytes in the proxy's metrics");
  return Number(m[1]);
}

function packet(payload: Buffer, seq: number, declared = payload.length): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(Math.min(declared, 0xffffff), 0, 3);
  header[3] = seq;
  return Buffer.concat([header, payload]);
}

/** A plausible handshake response (protocol 41 + plugin auth) to mutate. */
function handshakeResponse(user: string): Buffer {
  const fixed = Buffer.alloc(32);
  fixed.writeUInt32LE(0x000fa685 | 0x00080000, 0);
  fixed.writeUInt32LE(16 * 1024 * 1024, 4);
  fixed[8] = 45;
  return Buffer.concat([fixed, Buffer.from(user + "\0"), Buffer.from([20]), crypto.randomBytes(20), Buffer.from("main\0mysql_native_password\0")]);
}

const attacks: ((user: string) => Buffer)[] = [
  () => crypto.randomBytes(crypto.randomInt(1, 2000)),
  (u) => packet(handshakeResponse(u), 1).subarray(0, crypto.randomInt(1, 60)),
  (u) => {
    const body = handshakeResponse(u);
    return packet(body, 1, body.length + crypto.randomInt(1, 50));
  },
  () => packet(crypto.randomBytes(64), 1, 0xffffff),
  () => packet(crypto.randomBytes(crypto.randomInt(0, 300)), crypto.randomInt(0, 256)),
  (u) => {
    const body = handshakeResponse(u);
    for (let i = 0; i < 5; i++) body[crypto.randomInt(body.length)] = crypto.randomInt(256);
    return packet(body, 1);
  },
  () => packet(Buffer.alloc(0), 1),
  () => {
    const ssl = Buffer.alloc(32);
    ssl.writeUInt32LE(0x000fa685 | 0x800, 0);
    return Buffer.concat([packet(ssl, 1), crypto.randomBytes(200)]);
  },
];

function attack(data: Buffer): Promise<"error" | "close"> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort(), "127.0.0.1");
    let greeted = false;
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("the proxy neither answered nor closed within 10 s"));
    }, 10_000);
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (!greeted && received.length >= 4 && received.length >= 4 + received.readUIntLE(0, 3)) {
        greeted = true;
        received = received.subarray(4 + received.readUIntLE(0, 3));
        socket.write(data);
      }
      if (greeted && received.length >= 5 && received[4] === 0xff) {
        clearTimeout(timer);
        socket.destroy();
        resolve("error");
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve("close");
    });
  });
}

describe("proxy: hostile input", () => {
  it(`answers ${FUZZ_MS / 1000} s of random, truncated and oversized handshakes with errors or closes, and stays up`, async () => {
    const c = await createProjectWithCompute(await newTenant());
    const user = `${c.slug}.app`;
    // warm up, then take the memory baseline
    await Promise.all(Array.from({ length: 48 }, (_, i) => attack(attacks[i % attacks.length]!(user))));
    const before = await proxyRss();

    const outcomes = { error: 0, close: 0 };
    const deadline = Date.now() + FUZZ_MS;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        for (let i = worker; Date.now() < deadline; i++) {
          outcomes[await attack(attacks[i % attacks.length]!(user))]++;
        }
      }),
    );
    const after = await proxyRss();
    const total = outcomes.error + outcomes.close;
    console.log(`fuzz: ${total} hostile handshakes (${outcomes.error} error packets, ${outcomes.close} closes); proxy RSS ${(before / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB`);
    expect(total).toBeGreaterThan(FUZZ_MS / 200); // several per second and worker, most waiting out the handshake timeout
    expect(outcomes.error).toBeGreaterThan(0);
    expect(after - before).toBeLessThan(48 * 1024 * 1024);

    // a real client still gets in
    const conn = await connectProxy(user, c.password);
    expect((await conn.query("SELECT 1 AS ok"))[0]).toEqual([{ ok: 1 }]);
    await conn.end();
  }, FUZZ_MS + 60_000);
});
