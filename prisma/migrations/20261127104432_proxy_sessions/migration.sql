-- AlterTable
ALTER TABLE "ProxyInstance" ADD COLUMN     "slot" INTEGER;

-- CreateTable
CREATE TABLE "ProxySession" (
    "proxyId" TEXT NOT NULL,
    "connectionId" INTEGER NOT NULL,
    "projectId" TEXT NOT NULL,
    "computeId" TEXT NOT NULL,
    "backendThreadId" INTEGER NOT NULL,

    CONSTRAINT "ProxySession_pkey" PRIMARY KEY ("proxyId","connectionId")
);

-- CreateIndex
CREATE INDEX "ProxySession_connectionId_idx" ON "ProxySession"("connectionId");

-- CreateIndex
CREATE UNIQUE INDEX "ProxyInstance_slot_key" ON "ProxyInstance"("slot");

-- AddForeignKey
ALTER TABLE "ProxySession" ADD CONSTRAINT "ProxySession_proxyId_fkey" FOREIGN KEY ("proxyId") REFERENCES "ProxyInstance"("id") ON DELETE CASCADE ON UPDATE CASCADE;
