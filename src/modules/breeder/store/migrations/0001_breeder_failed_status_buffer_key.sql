ALTER TABLE "breeder_breeders" DROP CONSTRAINT "breeder_breeders_status_check";--> statement-breakpoint
ALTER TABLE "breeder_trials" ADD COLUMN "buffer_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "breeder_trials_buffer_key_idx" ON "breeder_trials" USING btree ("breeder_id","buffer_key") WHERE buffer_key IS NOT NULL;--> statement-breakpoint
ALTER TABLE "breeder_breeders" ADD CONSTRAINT "breeder_breeders_status_check" CHECK (status IN ('created', 'running', 'stopped', 'completed', 'failed'));