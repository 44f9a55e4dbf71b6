import { describe, expect, it } from "vitest";
import { apiKeyRoles, assignableRoles, can, canAssignRole, lowerRole, MEMBER_ROLES, PERMISSIONS, roleAtLeast, type MemberRole, type Permission } from "./roles";

describe("member roles", () => {
  it("are ordered owner > admin > member > viewer", () => {
    expect(roleAtLeast("owner", "admin")).toBe(true);
    expect(roleAtLeast("admin", "member")).toBe(true);
    expect(roleAtLeast("member", "viewer")).toBe(true);
    expect(roleAtLeast("viewer", "member")).toBe(false);
    expect(roleAtLeast("admin", "owner")).toBe(false);
    for (const role of MEMBER_ROLES) expect(roleAtLeast(role, role)).toBe(true);
    expect(lowerRole("owner", "member")).toBe("member");
    expect(lowerRole("viewer", "admin")).toBe("viewer");
  });

  it("follow the permission table", () => {
    const table: Record<MemberRole, Permission[]> = {
      viewer: [],
      member: ["projects.write", "api_keys.write"],
      admin: ["projects.write", "api_keys.write", "api_keys.revoke_any", "members.manage", "billing.read", "audit_log.read"],
      owner: Object.keys(PERMISSIONS) as Permission[],
    };
    for (const role of MEMBER_ROLES) {
      const allowed = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => can(role, p));
      expect(allowed.sort(), role).toEqual([...table[role]].sort());
    }
  });

  it("let a viewer change nothing, only owners change the plan or the owner role", () => {
    for (const p of Object.keys(PERMISSIONS) as Permission[]) expect(can("viewer", p)).toBe(false);
    expect(can("admin", "billing.write")).toBe(false);
    expect(can("owner", "billing.write")).toBe(true);
    expect(canAssignRole("admin", "admin")).toBe(true);
    expect(canAssignRole("admin", "viewer")).toBe(true);
    expect(canAssignRole("admin", "owner")).toBe(false);
    expect(canAssignRole("owner", "owner")).toBe(true);
    expect(canAssignRole("member", "viewer")).toBe(false);
  });

  it("offer the console only the roles a member may give", () => {
    expect(assignableRoles("owner")).toEqual(["owner", "admin", "member", "viewer"]);
    expect(assignableRoles("admin")).toEqual(["admin", "member", "viewer"]);
    expect(assignableRoles("member")).toEqual([]);
    expect(assignableRoles("viewer")).toEqual([]);
    expect(apiKeyRoles("member")).toEqual(["member", "viewer"]);
    expect(apiKeyRoles("owner")).toEqual(["owner", "admin", "member", "viewer"]);
  });
});
