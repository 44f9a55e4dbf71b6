import { db } from "../db";

/** The compute's most recent operation, for replies to a request that found nothing left to do. */
export async function latestOperationId(computeId: string): Promise<string | null> {
  const op = await db.operation.findFirst({
    where: { computeId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true },
  });
  return op?.id ?? null;
}
