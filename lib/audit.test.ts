import { describe, expect, it } from "vitest";
import { AUDIT_ACTIONS, describeAuditEvent } from "./audit";

describe("describeAuditEvent", () => {
  it("says what changed, with the details that matter", () => {
    expect(describeAuditEvent({ action: "member.role_changed", targetLabel: "ana@example.com", details: { from: "viewer", to: "admin" } })).toBe(
      "changed the role of ana@example.com from viewer to admin",
    );
    expect(describeAuditEvent({ action: "member.removed", targetLabel: "bo@example.com", details: { role: "member", revokedApiKeys: 2 } })).toBe(
      "removed bo@example.com (member); 2 API keys revoked",
    );
    expect(describeAuditEvent({ action: "plan.changed", targetLabel: null, details: { from: "free", to: "pro" } })).toBe("changed the plan from free to pro");
    expect(describeAuditEvent({ action: "member.invited", targetLabel: "cy@example.com", details: { role: "viewer" } })).toBe("invited cy@example.com as viewer");
  });

  it("has a sentence for every recorded action and survives unknown ones", () => {
    for (const action of AUDIT_ACTIONS) expect(describeAuditEvent({ action, targetLabel: "x", details: null })).not.toContain(action);
    expect(describeAuditEvent({ action: "something.new", targetLabel: "x", details: null })).toBe("something.new x");
  });
});
