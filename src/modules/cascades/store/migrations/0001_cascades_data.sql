CREATE TABLE "cascades_data_schemas" (
	"session_id" text PRIMARY KEY NOT NULL,
	"schema_name" text NOT NULL,
	"role_name" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cascades_sessions" ADD COLUMN "parent_session_id" text;--> statement-breakpoint
ALTER TABLE "cascades_sessions" ADD COLUMN "detached" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "cascades_sessions" ADD COLUMN "depth" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cascades_sessions" ADD COLUMN "waiting_children" integer;--> statement-breakpoint
CREATE INDEX "cascades_sessions_parent_idx" ON "cascades_sessions" USING btree ("parent_session_id") WHERE parent_session_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "cascades_sessions_waiting_idx" ON "cascades_sessions" USING btree ("status") WHERE waiting_children IS NOT NULL;