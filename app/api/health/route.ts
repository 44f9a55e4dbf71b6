import { json } from "@/app/_lib/http";
import { readiness } from "@/server/health";

export const dynamic = "force-dynamic";

// GET /api/health - readiness: 200 only when the database, migrations and scheduler are all ready
export async function GET() {
  const { ready, checks } = await readiness();
  return json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
}
