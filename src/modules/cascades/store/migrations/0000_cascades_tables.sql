CREATE TABLE "cascades_checkpoints" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"phase" text,
	"turn" integer NOT NULL,
	"kind" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cascades_costs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"phase" text,
	"model" text NOT NULL,
	"tokens_in" integer NOT NULL,
	"tokens_out" integer NOT NULL,
	"cost" double precision,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cascades_definitions" (
	"cascade_id" text PRIMARY KEY NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cascades_human_checkpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"phase" text NOT NULL,
	"prompt" text NOT NULL,
	"status" text NOT NULL,
	"response" jsonb,
	"on_timeout" text NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"answered_at" timestamp (3) with time zone,
	CONSTRAINT "cascades_human_checkpoints_status_check" CHECK (status IN ('pending', 'answered', 'timed_out', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "cascades_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"phase" text,
	"turn" integer,
	"sounding_index" integer,
	"winner" text,
	"kind" text NOT NULL,
	"model" text,
	"tokens_in" integer,
	"tokens_out" integer,
	"cost" double precision,
	"duration_ms" integer,
	"content" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cascades_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"cascade_id" text NOT NULL,
	"spec" jsonb NOT NULL,
	"status" text NOT NULL,
	"current_phase" text,
	"inputs" jsonb NOT NULL,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"outputs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"completed" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"signals" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"cost" double precision DEFAULT 0 NOT NULL,
	"tokens_in" integer DEFAULT 0 NOT NULL,
	"tokens_out" integer DEFAULT 0 NOT NULL,
	"owner" text,
	"epoch" integer DEFAULT 0 NOT NULL,
	"recoveries" integer DEFAULT 0 NOT NULL,
	"heartbeat_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "cascades_sessions_status_check" CHECK (status IN ('starting', 'running', 'blocked', 'completed', 'error', 'cancelled', 'orphaned'))
);
--> statement-breakpoint
CREATE INDEX "cascades_checkpoints_session_idx" ON "cascades_checkpoints" USING btree ("session_id","id");--> statement-breakpoint
CREATE INDEX "cascades_costs_session_idx" ON "cascades_costs" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "cascades_human_checkpoints_pending_idx" ON "cascades_human_checkpoints" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "cascades_human_checkpoints_session_idx" ON "cascades_human_checkpoints" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "cascades_logs_session_idx" ON "cascades_logs" USING btree ("session_id","id");--> statement-breakpoint
CREATE INDEX "cascades_sessions_created_idx" ON "cascades_sessions" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "cascades_sessions_status_idx" ON "cascades_sessions" USING btree ("status","heartbeat_at");