CREATE TABLE "breeder_breeders" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"definition" jsonb NOT NULL,
	"status" text DEFAULT 'created' NOT NULL,
	"generation" integer DEFAULT 0 NOT NULL,
	"next_number" integer DEFAULT 0 NOT NULL,
	"reason" text,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "breeder_breeders_status_check" CHECK (status IN ('created', 'running', 'stopped', 'completed'))
);
--> statement-breakpoint
CREATE TABLE "breeder_credentials" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"secret" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "breeder_targets" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"spec" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "breeder_trials" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"breeder_id" text NOT NULL,
	"number" integer NOT NULL,
	"state" text NOT NULL,
	"params" jsonb NOT NULL,
	"values" jsonb,
	"observations" jsonb,
	"constraints" jsonb,
	"error" text,
	"slot" integer NOT NULL,
	"generation" integer NOT NULL,
	"worker" text NOT NULL,
	"durations" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "breeder_trials_state_check" CHECK (state IN ('running', 'complete', 'fail', 'pruned'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "breeder_breeders_name_idx" ON "breeder_breeders" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "breeder_credentials_name_idx" ON "breeder_credentials" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "breeder_targets_name_idx" ON "breeder_targets" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "breeder_trials_number_idx" ON "breeder_trials" USING btree ("breeder_id","number");--> statement-breakpoint
CREATE INDEX "breeder_trials_running_idx" ON "breeder_trials" USING btree ("breeder_id","slot") WHERE state = 'running';