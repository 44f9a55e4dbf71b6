-- AlterEnum
ALTER TYPE "OperationKind" ADD VALUE 'spend_threshold';

-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "spendCapUsd" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "SpendAlert" (
    "organizationId" TEXT NOT NULL,
    "month" TIMESTAMP(3) NOT NULL,
    "threshold" INTEGER NOT NULL,
    "capUsd" DOUBLE PRECISION NOT NULL,
    "spentUsd" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SpendAlert_pkey" PRIMARY KEY ("organizationId","month","threshold")
);

-- CreateTable
CREATE TABLE "Invoice" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "month" TIMESTAMP(3) NOT NULL,
    "plan" "Plan" NOT NULL,
    "lineItems" JSONB NOT NULL,
    "usage" JSONB NOT NULL,
    "totalUsd" DOUBLE PRECISION NOT NULL,
    "finalizedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Invoice_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Invoice_month_idx" ON "Invoice"("month");

-- CreateIndex
CREATE UNIQUE INDEX "Invoice_organizationId_month_key" ON "Invoice"("organizationId", "month");

-- AddForeignKey
ALTER TABLE "SpendAlert" ADD CONSTRAINT "SpendAlert_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Invoice" ADD CONSTRAINT "Invoice_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- An invoice is final once written: refuse every change to it at the database, whatever the caller.
CREATE FUNCTION "invoice_is_final"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'invoice % is final and cannot be changed', OLD.id USING ERRCODE = 'check_violation';
END;
$$;

CREATE TRIGGER "Invoice_is_final" BEFORE UPDATE ON "Invoice" FOR EACH ROW EXECUTE FUNCTION "invoice_is_final"();

-- CreateIndex
CREATE INDEX "UsageEvent_endedAt_idx" ON "UsageEvent"("endedAt");

-- CreateIndex
CREATE INDEX "UsageEvent_organizationId_endedAt_idx" ON "UsageEvent"("organizationId", "endedAt");
