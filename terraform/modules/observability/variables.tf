variable "environment" {
  description = "Deployment environment: the env tag of the metrics (deployment.environment.name = the Worker's ENVIRONMENT) and of the logs (set by the Logpush job)."
  type        = string
}

variable "service" {
  description = "The service tag: OTEL_SERVICE_NAME of the Worker (default senzu-api), and the service of the Logpush job."
  type        = string
  default     = "senzu-api"
}

variable "runbook_url" {
  description = "URL of docs/runbooks/observability.md as people read it (e.g. on GitHub); every monitor links to its section there."
  type        = string
}

variable "warning_channel" {
  description = "Datadog notification handle for warnings, e.g. @slack-senzu-alerts or @team-senzu@example.com."
  type        = string
}

variable "pagerduty_escalation_policy_id" {
  description = "PagerDuty escalation policy of the service that pages. null: no PagerDuty service is made, and what would page goes to warning_channel (staging)."
  type        = string
  default     = null
}

variable "provider_monthly_credits" {
  description = "The Odds API plan's monthly credits (ODDS_API_MONTHLY_CREDITS): credits-left thresholds are 20 % (warn) and 5 % (page) of it."
  type        = number
  default     = 20000
}

variable "prediction_queue_max_retries" {
  description = "max_retries of the PREDICTION_QUEUE consumer (wrangler.toml): a write failing on a later attempt goes to the dead-letter queue."
  type        = number
  default     = 10
}

variable "cache_hit_rate_min_lookups" {
  description = "Prediction cache lookups in 30 minutes below which the hit rate is not judged (outside match hours a handful of misses is the whole window)."
  type        = number
  default     = 100
}
