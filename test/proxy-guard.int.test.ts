import net from "node:net";
import { describe, expect, inject, it } from "vitest";
import { newTenant } from "./api";
import { createProjectWithCompute } from "./compute";
import { connectProxy, proxyPort, rejection } from "./proxy";

// Guesses come from an address of their own (all of 127/8 is loopback), so other tests' failed logins
// from 127.0.0.1 don't count here, nor these there.
const fromGuesser = () => ({ stream: net.connect({ port: proxyPort(), host: "127.0.0.1", localAddress: "127.0.0.77" }) });

// The proxy is no fast way to guess passwords, and it says what it does on its metrics endpoint.

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

describe("proxy: guarding and metrics", () => {
  it("slows down repeated failed logins from one address", async () => {
    const tenant = await newTenant();
    const c = await createProjectWithCompute(tenant);
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const [error, ms] = await timed(() => rejection(connectProxy(`${c.slug}.app`, `guess-${i}`, fromGuesser())));
      expect(error.errno).toBe(1045);
      times.push(ms);
    }
    // The first refusals are quick; by the seventh the address waits a second or more per guess.
    expect(times[0]).toBeLessThan(1000);
    expect(times[6]).toBeGreaterThanOrEqual(1000);
    expect(times[6]).toBeGreaterThan(times[3]!);
    // The right password is never delayed.
    const [conn, ms] = await timed(() => connectProxy(`${c.slug}.app`, c.password, fromGuesser()));
    expect(ms).toBeLessThan(1000);
    await conn.end();
  });

  it("exposes connections, handshakes, auth failures and wakes as Prometheus metrics", async () => {
    const text = await (await fetch(`http://127.0.0.1:${inject("metricsPort")}/metrics`)).text();
    for (const name of [
      "proxy_connections_active",
      "proxy_connections_total",
      'proxy_handshakes_total{result="ok"}',
      "proxy_auth_failures_total",
      "proxy_wakes_total",
      "proxy_wake_duration_seconds_bucket",
      "process_resident_memory_bytes",
    ]) {
      expect(text, name).toContain(name);
    }
    const authFailures = Number(/^proxy_auth_failures_total (\d+)/m.exec(text)?.[1]);
    expect(authFailures).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${inject("metricsPort")}/nope`)).status).toBe(404);
  });
});
