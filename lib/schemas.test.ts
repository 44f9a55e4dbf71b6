import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { ProjectUpdateSchema, SignupSchema } from "./schemas";

describe("schemas refuse NUL with the field's path", () => {
  const paths = (result: { success: boolean; error?: z.ZodError }) => result.error?.issues.map((i) => i.path.join("."));

  it("in names, emails and passwords", () => {
    expect(paths(ProjectUpdateSchema.safeParse({ name: "shop\u0000" }))).toEqual(["name"]);
    expect(paths(SignupSchema.safeParse({ email: "a\u0000@example.com", password: "long enough\u0000", organization: "x\u0000" }))).toEqual(
      expect.arrayContaining(["email", "password", "organization"]),
    );
  });

  it("in allowed IP ranges, and normalises the valid ones", () => {
    const bad = ProjectUpdateSchema.safeParse({ access: { allowedCidrs: ["10.0.0.0/8", "nope", "1.2.3.4\u0000"] } });
    expect(paths(bad)).toEqual(expect.arrayContaining(["access.allowedCidrs.1", "access.allowedCidrs.2"]));
    const good = ProjectUpdateSchema.parse({ access: { allowedCidrs: ["10.1.2.3/8", "10.0.0.0/8", "::ffff:127.0.0.1"] } });
    expect(good.access?.allowedCidrs).toEqual(["10.0.0.0/8", "127.0.0.1/32"]);
    expect(paths(ProjectUpdateSchema.safeParse({ access: { allowedCidrs: Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`) } }))).toEqual([
      "access.allowedCidrs",
    ]);
    expect(paths(ProjectUpdateSchema.safeParse({ access: { requireTLS: true } }))).toEqual(expect.arrayContaining(["access"]));
  });
});
