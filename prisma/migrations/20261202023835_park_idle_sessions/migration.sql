-- AlterTable
ALTER TABLE "Compute" ADD COLUMN     "parkAfterSeconds" INTEGER,
ADD COLUMN     "parkIdleSessions" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "ProxyActivity" ADD COLUMN     "idleThreadIds" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
ADD COLUMN     "parked" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pinned" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pins" JSONB NOT NULL DEFAULT '[]';
