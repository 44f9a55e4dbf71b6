-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "allowedCidrs" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "requireTls" BOOLEAN NOT NULL DEFAULT false;
