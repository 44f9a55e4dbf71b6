import type http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authFailuresTotal,
  backendConnectRetriesTotal,
  connectionsActive,
  connectionsTotal,
  handshakesTotal,
  metrics,
  metricsPort,
  register,
  startMetricsServer,
  wakeDurationSeconds,
  wakesTotal,
} from "./metrics";

describe("proxy metrics", () => {
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = await startMetricsServer(0);
    base = `http://127.0.0.1:${metricsPort(server)}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("exposes the proxy's metrics and the process defaults on GET /metrics", async () => {
    connectionsTotal.inc();
    connectionsTotal.inc();
    connectionsActive.inc();
    handshakesTotal.inc({ result: "ok" });
    handshakesTotal.inc({ result: "auth_failed" });
    authFailuresTotal.inc();
    wakesTotal.inc({ from: "suspended" });
    wakeDurationSeconds.observe(0.3);
    metrics.wakeDuration.observe(0.004);
    metrics.handshakes.inc({ result: "ok" });
    backendConnectRetriesTotal.inc(3);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(register.contentType);
    const text = await res.text();

    expect(text).toMatch(/^proxy_connections_active 1$/m);
    expect(text).toMatch(/^proxy_connections_total 2$/m);
    expect(text).toMatch(/^proxy_handshakes_total\{result="ok"\} 2$/m);
    expect(text).toMatch(/^proxy_handshakes_total\{result="auth_failed"\} 1$/m);
    expect(text).toMatch(/^proxy_handshakes_total\{result="timeout"\} 0$/m); // known values start at 0
    expect(text).toMatch(/^proxy_auth_failures_total 1$/m);
    expect(text).toMatch(/^proxy_wakes_total\{from="suspended"\} 1$/m);
    expect(text).toMatch(/^proxy_wakes_total\{from="paused"\} 0$/m);
    expect(text).toMatch(/^proxy_wake_duration_seconds_bucket\{le="0.001"\} 0$/m);
    expect(text).toMatch(/^proxy_wake_duration_seconds_bucket\{le="0.005"\} 1$/m);
    expect(text).toMatch(/^proxy_wake_duration_seconds_bucket\{le="0.25"\} 1$/m);
    expect(text).toMatch(/^proxy_wake_duration_seconds_bucket\{le="0.5"\} 2$/m);
    expect(text).toMatch(/^proxy_wake_duration_seconds_bucket\{le="30"\} 2$/m);
    expect(text).toMatch(/^proxy_wake_duration_seconds_count 2$/m);
    expect(text).toMatch(/^proxy_backend_connect_retries_total 3$/m);
    expect(text).toMatch(/^# TYPE proxy_wake_duration_seconds histogram$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });

  it("answers 404 for anything but GET /metrics", async () => {
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metricsx`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${base}/metrics?x=1`)).status).toBe(200);
  });

  it("rejects when the port is taken", async () => {
    await expect(startMetricsServer(metricsPort(server))).rejects.toThrow(/EADDRINUSE/);
  });
});
