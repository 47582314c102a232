variable "account_id" {
  description = "Cloudflare account that owns the Worker, KV, R2 and the queues (one account per environment)."
  type        = string
}

variable "zone_id" {
  description = "Zone of api_hostname; the route, the WAF managed ruleset and the rate-limiting rule attach to it."
  type        = string
}

variable "api_hostname" {
  description = "Public hostname of the API, e.g. api.senzu.ai. The route is <api_hostname>/*."
  type        = string
}

variable "script_name" {
  description = "Worker script name; must equal the `name` of the matching wrangler.toml environment."
  type        = string
}

variable "compatibility_date" {
  description = "Compatibility date of the placeholder script; wrangler deploy sets the real one from wrangler.toml."
  type        = string
  default     = "2026-04-20"
}

variable "kv_namespace_title" {
  description = "Title of the PREDICTIONS KV namespace (its id goes into wrangler.toml after the first apply)."
  type        = string
}

variable "kv_binding" {
  description = "Binding name of the KV namespace (wrangler.toml kv_namespaces.binding)."
  type        = string
  default     = "PREDICTIONS"
}

variable "r2_bucket_name" {
  description = "R2 bucket of the model artifacts (wrangler.toml r2_buckets.bucket_name). scripts/lib/r2-upload.ts uploads to senzu-models."
  type        = string
  default     = "senzu-models"
}

variable "r2_binding" {
  description = "Binding name of the R2 bucket."
  type        = string
  default     = "MODELS"
}

variable "r2_location" {
  description = "R2 location hint (weur, eeur, wnam, enam, apac, oc)."
  type        = string
  default     = "weur"
}

variable "queue_name" {
  description = "Feature-recompute queue (wrangler.toml queues.producers.queue and queues.consumers.queue)."
  type        = string
  default     = "senzu-feature-recompute"
}

variable "dead_letter_queue_name" {
  description = "Dead-letter queue of the consumer (wrangler.toml queues.consumers.dead_letter_queue)."
  type        = string
  default     = "senzu-feature-recompute-dlq"
}

variable "queue_binding" {
  description = "Producer binding name of the queue."
  type        = string
  default     = "FEATURE_QUEUE"
}

variable "queue_consumer" {
  description = "Consumer settings, mirroring wrangler.toml: max_batch_size, max_batch_timeout (seconds), max_retries."
  type = object({
    max_batch_size    = number
    max_batch_timeout = number
    max_retries       = number
  })
  default = {
    max_batch_size    = 50
    max_batch_timeout = 1
    max_retries       = 5
  }
}

variable "durable_objects" {
  description = "Durable Object bindings: binding name => class name. All are SQLite-backed (migration tag below)."
  type        = map(string)
  default = {
    RATE_LIMITER = "RateLimiter"
    MATCH_ODDS   = "MatchOdds"
  }
}

variable "durable_object_migration_tag" {
  description = "Tag of the Durable Object migration that creates the SQLite classes (wrangler.toml migrations.tag)."
  type        = string
  default     = "v1"
}

variable "cron_schedules" {
  description = "Cron Triggers (wrangler.toml triggers.crons): odds every 5 min, fixtures hourly, the daily run."
  type        = list(string)
  default     = ["*/5 * * * *", "0 * * * *", "30 3 * * *"]
}

variable "edge_rate_limit" {
  description = "Per-IP backstop at the edge, in front of the exact per-user limits the RateLimiter DO enforces. Free and Pro plans allow period 10 and mitigation_timeout 10."
  type = object({
    requests_per_period = number
    period              = number
    mitigation_timeout  = number
  })
  default = {
    requests_per_period = 500
    period              = 10
    mitigation_timeout  = 10
  }
}
