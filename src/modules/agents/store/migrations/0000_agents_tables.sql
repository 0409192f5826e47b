CREATE TABLE "agents_agents" (
	"id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"repo" text NOT NULL,
	"base_branch" text NOT NULL,
	"base_sha" text,
	"branch" text NOT NULL,
	"worktree" text NOT NULL,
	"spec" jsonb NOT NULL,
	"priority" integer DEFAULT 3 NOT NULL,
	"turn" integer DEFAULT 0 NOT NULL,
	"messages" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"result" text,
	"error" text,
	"commit_sha" text,
	"tokens_in" integer DEFAULT 0 NOT NULL,
	"tokens_out" integer DEFAULT 0 NOT NULL,
	"cost" double precision DEFAULT 0 NOT NULL,
	"budget_warned" boolean DEFAULT false NOT NULL,
	"owner" text,
	"epoch" integer DEFAULT 0 NOT NULL,
	"recoveries" integer DEFAULT 0 NOT NULL,
	"swarm_id" text,
	"heartbeat_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "agents_agents_status_check" CHECK (status IN ('queued', 'running', 'paused', 'completed', 'failed', 'killed'))
);
--> statement-breakpoint
CREATE TABLE "agents_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"tool" text NOT NULL,
	"rule" text NOT NULL,
	"detail" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agents_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"turn" integer NOT NULL,
	"kind" text NOT NULL,
	"content" jsonb,
	"tokens_in" integer,
	"tokens_out" integer,
	"cost" double precision,
	"duration_ms" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agents_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"swarm_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"role" text NOT NULL,
	"text" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agents_swarms" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"strategy" text NOT NULL,
	"spec" jsonb NOT NULL,
	"status" text NOT NULL,
	"state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"result" jsonb,
	"error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "agents_swarms_status_check" CHECK (status IN ('running', 'completed', 'failed', 'killed'))
);
--> statement-breakpoint
CREATE INDEX "agents_agents_created_idx" ON "agents_agents" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "agents_agents_status_idx" ON "agents_agents" USING btree ("status","heartbeat_at");--> statement-breakpoint
CREATE INDEX "agents_agents_swarm_idx" ON "agents_agents" USING btree ("swarm_id");--> statement-breakpoint
CREATE INDEX "agents_audit_agent_idx" ON "agents_audit" USING btree ("agent_id","id");--> statement-breakpoint
CREATE INDEX "agents_logs_agent_idx" ON "agents_logs" USING btree ("agent_id","id");--> statement-breakpoint
CREATE INDEX "agents_messages_swarm_idx" ON "agents_messages" USING btree ("swarm_id","id");--> statement-breakpoint
CREATE INDEX "agents_swarms_created_idx" ON "agents_swarms" USING btree ("created_at","id");