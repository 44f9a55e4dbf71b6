-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "cuHoursQuota" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "ProxyInstance" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "version" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ProxyInstance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProxyActivity" (
    "proxyId" TEXT NOT NULL,
    "computeId" TEXT NOT NULL,
    "connections" INTEGER NOT NULL,
    "lastActiveAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ProxyActivity_pkey" PRIMARY KEY ("proxyId","computeId")
);

-- CreateIndex
CREATE INDEX "ProxyInstance_heartbeatAt_idx" ON "ProxyInstance"("heartbeatAt");

-- CreateIndex
CREATE INDEX "ProxyActivity_computeId_idx" ON "ProxyActivity"("computeId");

-- AddForeignKey
ALTER TABLE "ProxyActivity" ADD CONSTRAINT "ProxyActivity_proxyId_fkey" FOREIGN KEY ("proxyId") REFERENCES "ProxyInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;
