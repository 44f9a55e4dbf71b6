import { describe, expect, it } from "vitest";
import { SESSION_TRACKING_ARGS } from "@/server/compute/drivers/local/mariadb-config";
import type { OkPacket } from "../protocol/ok-packet";
import type { SessionStateChange } from "../protocol/session-track";
import { CHECK_TTL_MS, GLOBAL_CHECK_SQL, globalsTrack, loginEvidence, TrackingDefaults } from "./tracking-defaults";
import { TRACKING_SETTINGS } from "./tracking-settings";

// When the proxy may skip its tracking setup on a compute connection. What MariaDB 10.11 puts in a login's
// OK with and without the defaults is checked against real servers in test/proxy-tracking-defaults.int.test.ts.

const ok = (sessionState: SessionStateChange[]): OkPacket => ({ affectedRows: 0n, lastInsertId: 0n, status: 2, warnings: 0, info: "", sessionState });
const tracked: SessionStateChange[] = [
  { type: "schema", name: "main" },
  { type: "state-change", changed: true },
  { type: "transaction-state", state: "________" },
  { type: "transaction-characteristics", sql: "" },
];

describe("compute tracking defaults", () => {
  it("starts every compute with the tracking settings the follower accepts", () => {
    const values = Object.fromEntries(SESSION_TRACKING_ARGS.map((arg) => arg.replace(/^--/, "").replaceAll("-", "_").split("=") as [string, string]));
    expect(Object.keys(values).sort()).toEqual(Object.keys(TRACKING_SETTINGS).sort());
    for (const [name, value] of Object.entries(values)) expect({ name, accepted: TRACKING_SETTINGS[name]!.accepts(value) }).toEqual({ name, accepted: true });
    expect(GLOBAL_CHECK_SQL).toBe(
      "SELECT @@GLOBAL.session_track_system_variables, @@GLOBAL.session_track_schema, @@GLOBAL.session_track_state_change, @@GLOBAL.session_track_transaction_info",
    );
    expect(globalsTrack(["*", "ON", "ON", "CHARACTERISTICS"])).toBe(true);
    expect(globalsTrack(["autocommit,time_zone", "ON", "ON", "CHARACTERISTICS"])).toBe(false);
    expect(globalsTrack(["*", "ON", "OFF", "CHARACTERISTICS"])).toBe(false);
    expect(globalsTrack([])).toBe(false);
  });

  it("reads the login's OK: each setting it can show must be there, and a login without a database proves nothing", () => {
    expect(loginEvidence(ok(tracked), true)).toBe("tracks");
    expect(loginEvidence(ok([{ type: "schema", name: "main" }]), true)).toBe("does-not-track");
    expect(loginEvidence(ok(tracked.filter((c) => c.type !== "state-change")), true)).toBe("does-not-track");
    expect(loginEvidence(ok(tracked.filter((c) => c.type !== "transaction-characteristics")), true)).toBe("does-not-track");
    expect(loginEvidence(ok(tracked.slice(2)), false)).toBe("unproven");
    expect(loginEvidence(ok([]), false)).toBe("does-not-track");
  });

  it("checks each server once, believes the answer for a while, and forgets it on anything surprising", () => {
    let now = 1_000;
    const defaults = new TrackingDefaults(() => now);
    expect(defaults.plan(null, "tracks")).toBe("setup");
    expect(defaults.plan("a", "unproven")).toBe("setup");
    expect(defaults.plan("a", "tracks")).toBe("setup-and-check");
    expect(defaults.plan("a", "tracks")).toBe("setup"); // while the check is under way
    defaults.record("a", true);
    expect(defaults.plan("a", "tracks")).toBe("by-default");
    expect(defaults.plan("a", "unproven")).toBe("setup"); // a restore's login without a database
    expect(defaults.plan("a", "tracks")).toBe("by-default");
    now += CHECK_TTL_MS;
    expect(defaults.plan("a", "tracks")).toBe("setup-and-check");
    defaults.record("a", true);
    expect(defaults.plan("a", "does-not-track")).toBe("setup"); // e.g. an older server started at that address
    expect(defaults.plan("a", "tracks")).toBe("setup-and-check");
    defaults.record("a", false); // a tenant changed the GLOBAL list of tracked variables
    expect(defaults.plan("a", "tracks")).toBe("setup");
    now += CHECK_TTL_MS;
    expect(defaults.plan("a", "tracks")).toBe("setup-and-check");
    defaults.record("a", null); // the check's connection closed first
    expect(defaults.plan("a", "tracks")).toBe("setup-and-check");
    defaults.record("a", true);
    defaults.forget("a");
    expect(defaults.plan("a", "tracks")).toBe("setup-and-check");
    // A check that never answers is asked again after the TTL.
    expect(defaults.plan("b", "tracks")).toBe("setup-and-check");
    now += CHECK_TTL_MS;
    expect(defaults.plan("b", "tracks")).toBe("setup-and-check");
  });
});
