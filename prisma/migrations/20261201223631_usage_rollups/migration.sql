-- CreateTable
CREATE TABLE "UsageHour" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "projectId" TEXT,
    "computeId" TEXT NOT NULL,
    "hourStart" TIMESTAMP(3) NOT NULL,
    "computeSeconds" DOUBLE PRECISION NOT NULL,
    "cuSeconds" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UsageHour_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UsageRollupSlot" (
    "hourStart" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UsageRollupSlot_pkey" PRIMARY KEY ("hourStart")
);

-- CreateTable
CREATE TABLE "UsageMonth" (
    "organizationId" TEXT NOT NULL,
    "month" TIMESTAMP(3) NOT NULL,
    "computeSeconds" DOUBLE PRECISION NOT NULL,
    "cuSeconds" DOUBLE PRECISION NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UsageMonth_pkey" PRIMARY KEY ("organizationId","month")
);

-- CreateIndex
CREATE INDEX "UsageHour_organizationId_hourStart_idx" ON "UsageHour"("organizationId", "hourStart");

-- CreateIndex
CREATE INDEX "UsageHour_projectId_hourStart_idx" ON "UsageHour"("projectId", "hourStart");

-- CreateIndex
CREATE UNIQUE INDEX "UsageHour_organizationId_computeId_hourStart_key" ON "UsageHour"("organizationId", "computeId", "hourStart");

-- AddForeignKey
ALTER TABLE "UsageHour" ADD CONSTRAINT "UsageHour_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageHour" ADD CONSTRAINT "UsageHour_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UsageMonth" ADD CONSTRAINT "UsageMonth_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
