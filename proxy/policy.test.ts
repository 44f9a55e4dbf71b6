import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "@/server/errors";
import { compileAccessRules } from "@/server/projects/access-rules";
import { ClientError } from "./client-error";
import { admit, authenticate, authenticateChangeUser, parseTarget, wakeRefusal, type PolicyContext } from "./policy";
import { ErrorCode } from "./protocol/constants";
import { generateScramble } from "./protocol/handshake";
import { nativeToken } from "./protocol/native-password";
import type { ChangeUser } from "./protocol/change-user";
import type { Route, RouteTarget } from "./routing";

// Who may log in where, decided on routes as PostgreSQL would give them (built here as data): the user-name
// forms, the password check with one fresh look for a stale cached hash, the access rules, and the errors a
// refused wake turns into.

const sha1 = (data: Buffer | string) => crypto.createHash("sha1").update(data).digest();

function routeFor(slug: string, role: string, password: string, rules = { requireTls: false, allowedCidrs: [] as string[] }): Route {
  return {
    projectId: `p-${slug}`,
    organizationId: "o1",
    slug,
    role,
    doubleHash: sha1(sha1(password)),
    computeId: `c-${slug}`,
    access: compileAccessRules(rules),
    compute: null,
    readAt: Date.now(),
  };
}

/** Routes by "<slug>.<role>": `cached` is what a cache would answer, `stored` what a fresh read finds. */
function policy(cached: Record<string, Route>, stored = cached) {
  const reads: string[] = [];
  let failures = 0;
  const ctx: PolicyContext = {
    routes: {
      async lookup(target: RouteTarget, options?: { fresh?: boolean }) {
        const key = `${target.slug}.${target.role}`;
        reads.push(`${options?.fresh ? "fresh" : "cached"} ${key}`);
        return (options?.fresh ? stored : cached)[key] ?? null;
      },
    },
    throttle: { fail: () => 0 },
    metrics: { authFailure: () => failures++ },
  };
  return { ctx, reads, failures: () => failures };
}

const attempt = (user: string, password: string, serverName: string | null = null) => {
  const scramble = generateScramble();
  return { user, serverName, scramble, token: nativeToken(scramble, password), address: "10.1.2.3" };
};

async function refusal(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}

describe("proxy policy", () => {
  it("reads the project and role from the user name, or from the TLS server name with a bare role", () => {
    expect(parseTarget("wispy-river-4821.app", null)).toEqual({ slug: "wispy-river-4821", role: "app" });
    expect(parseTarget("app", "wispy-river-4821.db.example.com")).toEqual({ slug: "wispy-river-4821", role: "app" });
    expect(parseTarget("wispy-river-4821.app", "other.example.com")).toEqual({ slug: "wispy-river-4821", role: "app" });
    expect(parseTarget("app", null)).toBeNull();
    expect(parseTarget("Bad_Slug.app", null)).toBeNull();
    expect(parseTarget("wispy.Robert'); DROP", null)).toBeNull();
  });

  it("admits the right password with SHA1(password) for the compute login, and refuses the rest alike", async () => {
    const { ctx, failures } = policy({ "wispy.app": routeFor("wispy", "app", "s3cret") });
    const ok = await authenticate(ctx, attempt("wispy.app", "s3cret"));
    expect(ok.route.projectId).toBe("p-wispy");
    expect(ok.stage1.equals(sha1("s3cret"))).toBe(true);

    const wrong = await refusal(authenticate(ctx, attempt("wispy.app", "guess")));
    const unknownRole = await refusal(authenticate(ctx, attempt("wispy.admin", "s3cret")));
    const unknownProject = await refusal(authenticate(ctx, attempt("nowhere.app", "s3cret")));
    for (const [error, user] of [[wrong, "wispy.app"], [unknownRole, "wispy.admin"], [unknownProject, "nowhere.app"]] as const) {
      expect(error).toMatchObject({ code: ErrorCode.ACCESS_DENIED, sqlState: "28000", kind: "auth_failed" });
      expect(error.message).toBe(`Access denied for user '${user}'@'10.1.2.3' (using password: YES)`);
    }
    expect(failures()).toBe(3);
  });

  it("looks once more before refusing a password that a cached hash does not match (a reset)", async () => {
    const { ctx, reads } = policy({ "wispy.app": routeFor("wispy", "app", "old") }, { "wispy.app": routeFor("wispy", "app", "new") });
    const ok = await authenticate(ctx, attempt("wispy.app", "new"));
    expect(ok.stage1.equals(sha1("new"))).toBe(true);
    expect(reads).toEqual(["cached wispy.app", "fresh wispy.app"]);
  });

  it("applies the project's access rules after the password, naming the rule, and needs a compute", () => {
    const tlsOnly = routeFor("wispy", "app", "x", { requireTls: true, allowedCidrs: [] });
    expect(() => admit(tlsOnly, { address: "10.1.2.3", tls: true })).not.toThrow();
    expect(() => admit(tlsOnly, { address: "10.1.2.3", tls: false })).toThrow(expect.objectContaining({ code: ErrorCode.ACCESS_DENIED, kind: "access_rule" }));
    const office = routeFor("wispy", "app", "x", { requireTls: false, allowedCidrs: ["192.0.2.0/24"] });
    expect(() => admit(office, { address: "192.0.2.9", tls: false })).not.toThrow();
    expect(() => admit(office, { address: "10.1.2.3", tls: false })).toThrow(expect.objectContaining({ kind: "access_rule" }));
    const bare = { ...routeFor("wispy", "app", "x"), computeId: null };
    expect(() => admit(bare, { address: "10.1.2.3", tls: false })).toThrow(expect.objectContaining({ code: ErrorCode.UNAVAILABLE, kind: "no_compute" }));
  });

  it("judges a COM_CHANGE_USER like a login, within the session's project only", async () => {
    const wispy = routeFor("wispy", "app", "a");
    const { ctx } = policy({ "wispy.app": wispy, "wispy.reports": routeFor("wispy", "reports", "b"), "other.app": routeFor("other", "app", "c") });
    const scramble = generateScramble();
    const session = { scramble, serverName: null, address: "10.1.2.3", tls: false, route: wispy };
    const request = (user: string, password: string, authPlugin: string | null = "mysql_native_password") =>
      ({ user, authResponse: nativeToken(scramble, password), database: null, collation: null, authPlugin, connectAttributes: null }) satisfies ChangeUser;
    const anySocket = () => true;
    const ok = await authenticateChangeUser(ctx, request("wispy.reports", "b"), session, anySocket);
    expect(ok.route.role).toBe("reports");
    expect((await refusal(authenticateChangeUser(ctx, request("wispy.reports", "wrong"), session, anySocket))).code).toBe(ErrorCode.ACCESS_DENIED);
    expect((await refusal(authenticateChangeUser(ctx, request("other.app", "c"), session, anySocket))).message).toMatch(/cannot move a connection from project 'wispy' to project 'other'/);
    expect((await refusal(authenticateChangeUser(ctx, request("wispy.reports", "b", "caching_sha2_password"), session, anySocket))).message).toMatch(/needs mysql_native_password/);
    expect((await refusal(authenticateChangeUser(ctx, request("wispy.reports", "b"), session, () => false))).message).toMatch(/not possible on this connection/);
  });

  it("turns a refused wake into an error a person can act on: quota 1226, deleted, failed", () => {
    const quota = wakeRefusal(new AppError("quota_exceeded", "the organization has used its 50 CU-hours of compute for this month"), "wispy");
    expect(quota).toMatchObject({ code: ErrorCode.QUOTA, sqlState: "42000", kind: "quota" });
    expect(quota!.message).toBe("project 'wispy': the organization has used its 50 CU-hours of compute for this month");
    expect(wakeRefusal(new AppError("conflict", "the compute is being deleted"), "wispy")).toMatchObject({ code: ErrorCode.UNAVAILABLE, kind: "deleting" });
    expect(wakeRefusal(new AppError("unavailable", "x"), "wispy")!.message).toMatch(/marked failed - resume it from the console/);
    expect(wakeRefusal(new Error("socket hang up"), "wispy")).toBeNull();
  });
});
