-- DropIndex
DROP INDEX "Compute_state_idx";

-- AlterTable
ALTER TABLE "Compute" ADD COLUMN     "enteredStateAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "Compute_state_enteredStateAt_idx" ON "Compute"("state", "enteredStateAt");
