CREATE TABLE "workflow_trigger_keys" (
	"workflow" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"run_id" text NOT NULL,
	"status" text NOT NULL,
	"run_state" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "workflow_trigger_keys_pk" PRIMARY KEY("workflow","key")
);
--> statement-breakpoint
CREATE INDEX "workflow_trigger_keys_expires_idx" ON "workflow_trigger_keys" USING btree ("expires_at");