import { describe, expect, it } from "vitest";
import { ProjectSlugSchema } from "@/lib/schemas";
import { generateSlug, slugify } from "./slug";

describe("generateSlug", () => {
  it("makes valid project slugs of words and digits", () => {
    for (let i = 0; i < 500; i++) {
      const slug = generateSlug();
      expect(slug).toMatch(/^[a-z]+-[a-z]+-\d{4}$/);
      expect(ProjectSlugSchema.safeParse(slug).success).toBe(true);
    }
  });

  it("rarely repeats", () => {
    const seen = new Set(Array.from({ length: 1000 }, generateSlug));
    expect(seen.size).toBeGreaterThan(990);
  });
});

describe("slugify", () => {
  it("turns display names into slugs", () => {
    expect(slugify("Acme Corp.")).toBe("acme-corp");
    expect(slugify("  Crème Brûlée  ")).toBe("creme-brulee");
    expect(slugify("***")).toBe("");
  });

  it("never ends with a hyphen after truncation", () => {
    expect(slugify("a".repeat(29) + " b", 30)).toBe("a".repeat(29));
  });
});

describe("ProjectSlugSchema", () => {
  it("refuses what cannot be part of a MySQL user name", () => {
    for (const bad of ["Wispy-river", "wispy_river", "wispy.river", "-wispy", "wispy--river", "ab", "1abc"]) {
      expect(ProjectSlugSchema.safeParse(bad).success, bad).toBe(false);
    }
  });
});
