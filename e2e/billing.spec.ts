import { expect, expectAccessible, runTool, signUp, snap, test, uniqueEmail } from "./fixtures";

// Spend control and invoices in the console: the spend cap set on the billing page, the banner on every
// console page at 80 % and at 100 % of it, and the invoices - the list with this month's estimate and a
// closed month's final invoice written by the scheduler, and its printable view.

test("the spend-cap banner shows on every page at 80 % and 100 %; invoices list and print", async ({ page, browser, baseURL }) => {
  const email = uniqueEmail("billing");
  await signUp(page, email, "Globex Billing");
  // Pro (19 USD a month) with a month already over: 320 CU-hours (20 past the 300 included) and 60 GB through the proxy (10 past 50).
  runTool("e2e/support/last-month-usage.ts", [email, "320"]);

  await page.goto("/billing");
  // Scoped to <main>: while React reveals the streamed page, a second copy can sit for a moment in the hidden
  // Suspense container at the end of <body> (a CI run saw both), and the plan is the one the user sees.
  await expect(page.getByRole("main").getByTestId("billing-plan")).toHaveText(/pro/i);
  await expect(page.getByTestId("spend-cap-banner")).toHaveCount(0);
  const cap = page.getByRole("form", { name: "Spend cap" });

  // Bad input is said next to the field.
  await cap.getByLabel("Monthly spend cap (USD)").fill("-3");
  await cap.getByRole("button", { name: "Save cap" }).click();
  await expect(cap.getByRole("alert")).toContainText("must be more than 0");

  // 20 USD: the base price alone is 95 % of it.
  await cap.getByLabel("Monthly spend cap (USD)").fill("20");
  await cap.getByRole("button", { name: "Save cap" }).click();
  const banner = page.getByTestId("spend-cap-banner");
  await expect(banner).toContainText("80 % of the spend cap used");
  await expect(banner).toContainText("95 %");
  await expect(banner).toContainText("$19.00 of $20.00");
  await expect(page.getByTestId("spend-against-cap")).toContainText("of a $20.00 cap");
  await expectAccessible(page, "billing page with the 80 % banner");
  await snap(page, "billing-spend-cap-80");
  // On every console page.
  await page.getByRole("link", { name: "Projects", exact: true }).click();
  await expect(page).toHaveURL(/\/projects$/);
  await expect(page.getByTestId("spend-cap-banner")).toContainText("80 % of the spend cap used");

  // 19 USD, the plan's base price, is refused (it would be reached on the month's first day, and every month).
  await page.getByTestId("spend-cap-banner").getByRole("link", { name: "Change the cap" }).click();
  await expect(page).toHaveURL(/\/billing#spend-cap$/);
  await cap.getByLabel("Monthly spend cap (USD)").fill("19");
  await cap.getByRole("button", { name: "Save cap" }).click();
  await expect(cap.getByRole("alert")).toContainText("base price of $19.00");
  // 310 CU-hours this month (10 past the included 300, $1.60): $20.60 of $20.00, reached; the banner says
  // the computes are suspended and links back to the cap.
  runTool("e2e/support/last-month-usage.ts", [email, "310", "this-month"]);
  await page.reload();
  await expect(banner).toContainText("Spend cap reached");
  await expect(banner).toContainText("computes are suspended");
  await expectAccessible(page, "billing page with the 100 % banner");
  await snap(page, "billing-spend-cap-100");
  await page.goto("/api-keys");
  await expect(page.getByTestId("spend-cap-banner")).toContainText("Spend cap reached");

  // Removing the cap removes the banner.
  await page.goto("/billing");
  await cap.getByRole("button", { name: "Remove cap" }).click();
  await expect(page.getByTestId("spend-against-cap")).toContainText("(no cap)");
  await expect(banner).toHaveCount(0);

  // Invoices: this month's estimate, and last month's final one once the scheduler has written it.
  await page.getByRole("link", { name: "View invoices" }).click();
  await expect(page).toHaveURL(/\/billing\/invoices$/);
  const rows = page.getByTestId("invoice-row");
  await expect(rows.first()).toContainText("estimate, month in progress");
  await expect(async () => {
    await page.reload();
    await expect(rows).toHaveCount(2, { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(rows.nth(1)).toContainText("final since");
  await expect(rows.nth(1)).toContainText("$23.10");
  await expectAccessible(page, "invoices page");
  await snap(page, "invoices");

  // The printable invoice: each line with used, included, billed, price and amount.
  await rows.nth(1).getByRole("link").click();
  await expect(page).toHaveURL(/\/billing\/invoices\/(?!current)[a-z0-9]+$/);
  const invoice = page.getByRole("article", { name: "Invoice" });
  await expect(invoice.getByTestId("invoice-status")).toContainText("Final");
  await expect(invoice).toContainText("Globex Billing");
  const line = (name: string) => invoice.getByTestId("invoice-line").filter({ hasText: name });
  await expect(line("pro plan, monthly")).toContainText("$19.00");
  await expect(line("Compute")).toContainText("320 CU-hours");
  await expect(line("Compute")).toContainText("$3.20");
  await expect(line("Data transfer")).toContainText("$0.90");
  await expect(invoice.getByTestId("invoice-total")).toHaveText("$23.10");
  await expect(page.getByRole("button", { name: "Print" })).toBeVisible();
  await expectAccessible(page, "invoice page");
  await snap(page, "invoice");
  // In print, only the invoice: no navigation, no Print button.
  await page.emulateMedia({ media: "print" });
  await expect(page.getByRole("link", { name: "Projects", exact: true })).toBeHidden();
  await expect(page.getByRole("button", { name: "Print" })).toBeHidden();
  await expect(invoice.getByTestId("invoice-total")).toBeVisible();
  await snap(page, "invoice-print");
  await page.emulateMedia({ media: "screen" });

  // Another organization's invoice is the not-found page with HTTP 404 (like the API's), like one that does
  // not exist: billing's loading skeleton is the overview's only (route group), so the invoice page does not stream.
  const invoicePath = new URL(page.url()).pathname;
  const other = await browser.newContext({ baseURL });
  const stranger = await other.newPage();
  await signUp(stranger, uniqueEmail("stranger"));
  for (const path of [invoicePath, "/billing/invoices/nope"]) {
    const response = await stranger.goto(path);
    expect(response?.status()).toBe(404);
    await expect(stranger.getByText("Invoice not found")).toBeVisible();
    await expect(stranger.getByText("$23.10")).toHaveCount(0);
    await expect(stranger.getByText("Globex Billing")).toHaveCount(0);
  }
  expect((await stranger.request.get(`/api/v1/invoices/${invoicePath.split("/").pop()}`)).status()).toBe(404);
  await other.close();
});
