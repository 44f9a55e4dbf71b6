-- CreateTable
CREATE TABLE "FrontDoorLimit" (
    "key" TEXT NOT NULL,
    "level" DOUBLE PRECISION NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "blockedUntil" TIMESTAMPTZ(3),

    CONSTRAINT "FrontDoorLimit_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "FrontDoorLimit_updatedAt_idx" ON "FrontDoorLimit"("updatedAt");
