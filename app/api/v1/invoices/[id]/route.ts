import { json } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { getInvoice } from "@/server/billing/invoices";

// GET /api/v1/invoices/{id} - one invoice with its line items ("current": this month's running estimate)
export const GET = withCaller<{ id: string }>(async ({ params, caller }) => {
  return json({ invoice: await getInvoice({ caller, id: params.id }) });
});
