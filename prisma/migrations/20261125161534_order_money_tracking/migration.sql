-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "capturedAt" TIMESTAMP(3),
ADD COLUMN     "releasedAt" TIMESTAMP(3);
