import { json } from "@/app/_lib/http";

export const dynamic = "force-dynamic";

// GET /api/health/live - liveness: answers while the process lives
export async function GET() {
  return json({ status: "live", uptimeSeconds: Math.round(process.uptime()) });
}
