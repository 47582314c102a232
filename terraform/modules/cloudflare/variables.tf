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

variable "queues" {
  description = "Queues of the Worker, keyed by producer binding (wrangler.toml queues.producers.binding): queue_name is queues.producers.queue and queues.consumers.queue, dead_letter_queue_name is queues.consumers.dead_letter_queue, consumer mirrors the consumer's max_batch_size, max_batch_timeout (seconds) and max_retries. The Worker consumes every queue it produces to."
  type = map(object({
    queue_name             = string
    dead_letter_queue_name = string
    consumer = object({
      max_batch_size    = number
      max_batch_timeout = number
      max_retries       = number
    })
  }))
  default = {
    FEATURE_QUEUE = {
      queue_name             = "senzu-feature-recompute"
      dead_letter_queue_name = "senzu-feature-recompute-dlq"
      consumer = {
        max_batch_size    = 50
        max_batch_timeout = 1
        max_retries       = 5
      }
    }
    PREDICTION_QUEUE = {
      queue_name             = "senzu-prediction-writes"
      dead_letter_queue_name = "senzu-prediction-writes-dlq"
      consumer = {
        max_batch_size    = 100
        max_batch_timeout = 2
        max_retries       = 10
      }
    }
  }

  # The binding is a property of the Worker's env object.
  validation {
    condition     = alltrue([for binding in keys(var.queues) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", binding))])
    error_message = "Each key of queues is a producer binding: a JavaScript identifier such as FEATURE_QUEUE."
  }

  # Every entry creates its queue and its dead-letter queue, so a name used twice would be two resources
  # creating one queue: the second create fails halfway through an apply.
  validation {
    condition     = length(distinct(flatten([for q in values(var.queues) : [q.queue_name, q.dead_letter_queue_name]]))) == 2 * length(var.queues)
    error_message = "Every queue_name and dead_letter_queue_name in queues must be distinct."
  }

  # Cloudflare's Queues limits: batches of 1 to 100 messages, a batch wait of at most 60 s, at most 100 retries.
  # Checked here so a plan fails instead of the consumer update halfway through an apply.
  validation {
    condition = alltrue([
      for q in values(var.queues) :
      q.consumer.max_batch_size >= 1 && q.consumer.max_batch_size <= 100 && floor(q.consumer.max_batch_size) == q.consumer.max_batch_size
    ])
    error_message = "consumer.max_batch_size must be a whole number from 1 to 100."
  }

  validation {
    condition     = alltrue([for q in values(var.queues) : q.consumer.max_batch_timeout >= 0 && q.consumer.max_batch_timeout <= 60])
    error_message = "consumer.max_batch_timeout is in seconds, from 0 to 60."
  }

  validation {
    condition = alltrue([
      for q in values(var.queues) :
      q.consumer.max_retries >= 0 && q.consumer.max_retries <= 100 && floor(q.consumer.max_retries) == q.consumer.max_retries
    ])
    error_message = "consumer.max_retries must be a whole number from 0 to 100."
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
