-- AlterTable
ALTER TABLE "Compute" ADD COLUMN     "endpointSocket" TEXT;

-- The local driver's computes that have an endpoint now: their socket is in the driver's facts. (Without
-- it a proxy would reach them by TCP until their next start, which records it.)
UPDATE "Compute" SET "endpointSocket" = "driverState"->>'socket'
WHERE driver = 'local' AND "endpointHost" IS NOT NULL AND "driverState" ? 'socket' AND "driverState"->>'socket' <> '';
