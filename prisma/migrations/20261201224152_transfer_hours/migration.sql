-- CreateTable
CREATE TABLE "TransferHour" (
    "organizationId" TEXT NOT NULL,
    "projectId" TEXT,
    "computeId" TEXT NOT NULL,
    "hourStart" TIMESTAMP(3) NOT NULL,
    "bytesIn" BIGINT NOT NULL DEFAULT 0,
    "bytesOut" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "TransferHour_pkey" PRIMARY KEY ("computeId","hourStart")
);

-- CreateIndex
CREATE INDEX "TransferHour_organizationId_hourStart_idx" ON "TransferHour"("organizationId", "hourStart");

-- CreateIndex
CREATE INDEX "TransferHour_projectId_hourStart_idx" ON "TransferHour"("projectId", "hourStart");

-- AddForeignKey
ALTER TABLE "TransferHour" ADD CONSTRAINT "TransferHour_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TransferHour" ADD CONSTRAINT "TransferHour_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE SET NULL ON UPDATE CASCADE;
