-- CreateTable
CREATE TABLE "StorageSample" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "projectId" TEXT,
    "computeId" TEXT NOT NULL,
    "hourStart" TIMESTAMP(3) NOT NULL,
    "bytes" BIGINT NOT NULL,
    "sampledAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StorageSample_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StorageSample_organizationId_hourStart_idx" ON "StorageSample"("organizationId", "hourStart");

-- CreateIndex
CREATE INDEX "StorageSample_projectId_hourStart_idx" ON "StorageSample"("projectId", "hourStart");

-- CreateIndex
CREATE UNIQUE INDEX "StorageSample_computeId_hourStart_key" ON "StorageSample"("computeId", "hourStart");

-- AddForeignKey
ALTER TABLE "StorageSample" ADD CONSTRAINT "StorageSample_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StorageSample" ADD CONSTRAINT "StorageSample_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE SET NULL ON UPDATE CASCADE;
