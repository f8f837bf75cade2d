-- AlterTable
ALTER TABLE "devices" ADD COLUMN     "locale" TEXT;

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "expiryWarnedAt" TIMESTAMP(3);
