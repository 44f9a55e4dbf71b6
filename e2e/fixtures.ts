import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test as base, type Page } from "@playwright/test";

// Where the product runs comes from the global setup; every test gets it as its baseURL.
export const test = base.extend({
  baseURL: async ({}, use) => {
    const url = process.env.E2E_BASE_URL;
    if (!url) throw new Error("E2E_BASE_URL is not set: run through `npm run test:e2e` (playwright.config.ts starts the product)");
    await use(url);
  },
});
export { expect };

export const PASSWORD = "correct horse battery staple";

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(5).toString("hex")}@example.com`;
}

/** No serious or critical accessibility violation on the page, at 1280 px and at 375 px wide. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(
      bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
      `${what} at ${width} px`,
    ).toEqual([]);
    // Usable at 375 px: nothing makes the page scroll sideways.
    if (width === 375) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${what} scrolls sideways at 375 px`).toBeLessThanOrEqual(0);
    }
  }
  await page.setViewportSize(original);
}

/** Sign up through the console's form and land on the projects page. */
export async function signUp(page: Page, email: string, organization?: string): Promise<void> {
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  if (organization) await page.getByLabel("Organization").fill(organization);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/projects$/);
}

/** A screenshot into /tmp for a person to look at (SCREENSHOTS=1), at both widths. */
export async function snap(page: Page, name: string): Promise<void> {
  if (!process.env.SCREENSHOTS) return;
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `/tmp/console-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize(original);
}

const root = path.resolve(import.meta.dirname, "..");

/** A command of ours against the product's database (its embedded PostgreSQL in the scratch DATA_DIR). */
export function runTool(script: string, args: string[]): string {
  return execFileSync(path.join(root, "node_modules", ".bin", "tsx"), [path.join(root, script), ...args], {
    env: { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR!, DATABASE_URL: "", APP_URL: process.env.E2E_BASE_URL!, LOG_LEVEL: "warn" },
    encoding: "utf8",
  });
}
