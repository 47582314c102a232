variable "cloudflare_account_id" {
  description = "Cloudflare account of the production environment (each environment has its own account: the resource names are the same in both)."
  type        = string
}

variable "cloudflare_zone_id" {
  description = "Zone that serves api_hostname in that account."
  type        = string
}

variable "api_hostname" {
  description = "Public hostname of the production API."
  type        = string
}

variable "kv_namespace_title" {
  description = "Title of the PREDICTIONS KV namespace."
  type        = string
  default     = "senzu-predictions-production"
}

variable "neon_region_id" {
  description = "Neon region of the production project."
  type        = string
  default     = "aws-eu-central-1"
}

variable "aws_region" {
  description = "AWS region of the data-lake bucket."
  type        = string
  default     = "eu-west-1"
}

variable "lake_bucket_name" {
  description = "Globally unique name of the production S3 data-lake bucket."
  type        = string
  default     = "senzu-lake-production"
}

variable "runbook_url" {
  description = "URL of docs/runbooks/observability.md as the on-call reads it; monitors link to its sections."
  type        = string
}

variable "warning_channel" {
  description = "Datadog notification handle for warnings (e.g. @slack-senzu-production)."
  type        = string
}

variable "odds_api_monthly_credits" {
  description = "ODDS_API_MONTHLY_CREDITS of the production Worker: the credits-left thresholds are shares of it."
  type        = number
  default     = 20000
}

variable "pagerduty_escalation_policy_id" {
  description = "PagerDuty escalation policy that the production pages go to."
  type        = string
}
