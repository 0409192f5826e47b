CREATE TABLE "workflow_definitions" (
	"name" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workflow_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"version" integer NOT NULL,
	"status" text NOT NULL,
	"run_state" text NOT NULL,
	"status_description" text,
	"reason" text,
	"object" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workflow_history_run_state_check" CHECK (run_state IN ('initiated', 'running', 'paused', 'cancelled', 'completed', 'dataDeleted', 'requestedDataDeleted'))
);
--> statement-breakpoint
CREATE TABLE "workflow_runs" (
	"run_id" text PRIMARY KEY NOT NULL,
	"workflow" text NOT NULL,
	"foreign_id" text NOT NULL,
	"run_state" text NOT NULL,
	"status" text NOT NULL,
	"object" jsonb,
	"version" integer NOT NULL,
	"status_description" text,
	"reason" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workflow_runs_run_state_check" CHECK (run_state IN ('initiated', 'running', 'paused', 'cancelled', 'completed', 'dataDeleted', 'requestedDataDeleted'))
);
--> statement-breakpoint
CREATE TABLE "workflow_timeouts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"workflow" text NOT NULL,
	"status" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"completed_at" timestamp (3) with time zone,
	"cancelled_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "workflow_history_run_idx" ON "workflow_history" USING btree ("run_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_runs_one_active_idx" ON "workflow_runs" USING btree ("workflow","foreign_id") WHERE run_state IN ('initiated', 'running', 'paused');--> statement-breakpoint
CREATE INDEX "workflow_runs_created_idx" ON "workflow_runs" USING btree ("created_at","run_id");--> statement-breakpoint
CREATE INDEX "workflow_runs_workflow_status_idx" ON "workflow_runs" USING btree ("workflow","status");--> statement-breakpoint
CREATE INDEX "workflow_runs_foreign_idx" ON "workflow_runs" USING btree ("workflow","foreign_id","created_at","run_id");--> statement-breakpoint
CREATE INDEX "workflow_runs_paused_idx" ON "workflow_runs" USING btree ("updated_at") WHERE run_state = 'paused';--> statement-breakpoint
CREATE INDEX "workflow_timeouts_pending_expiry_idx" ON "workflow_timeouts" USING btree ("expires_at","id") WHERE completed_at IS NULL AND cancelled_at IS NULL;--> statement-breakpoint
CREATE INDEX "workflow_timeouts_pending_run_idx" ON "workflow_timeouts" USING btree ("run_id","status") WHERE completed_at IS NULL AND cancelled_at IS NULL;