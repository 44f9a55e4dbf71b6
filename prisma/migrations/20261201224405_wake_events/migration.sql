-- CreateTable
CREATE TABLE "WakeEvent" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "projectId" TEXT,
    "computeId" TEXT NOT NULL,
    "fromState" "ComputeState" NOT NULL,
    "kind" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "role" TEXT NOT NULL,
    "clientAddress" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WakeEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "WakeEvent_organizationId_startedAt_idx" ON "WakeEvent"("organizationId", "startedAt");

-- CreateIndex
CREATE INDEX "WakeEvent_projectId_startedAt_idx" ON "WakeEvent"("projectId", "startedAt");

-- AddForeignKey
ALTER TABLE "WakeEvent" ADD CONSTRAINT "WakeEvent_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WakeEvent" ADD CONSTRAINT "WakeEvent_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE SET NULL ON UPDATE CASCADE;
