CREATE TABLE "cascades_artifacts" (
	"session_id" text NOT NULL,
	"name" text NOT NULL,
	"content_type" text NOT NULL,
	"size" integer NOT NULL,
	"bytes" "bytea" NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cascades_artifacts_pk" PRIMARY KEY("session_id","name")
);
