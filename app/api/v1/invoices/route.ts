import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { PaginationSchema } from "@/lib/schemas";
import { listInvoices } from "@/server/billing/invoices";

// GET /api/v1/invoices - the acting organization's monthly invoices, newest first, the current month's
// running estimate first (owners and admins)
export const GET = withCaller(async ({ req, caller }) => {
  const pagination = readQuery(req, PaginationSchema);
  return json(await listInvoices({ caller, pagination }));
});
