output "worker_script_name" {
  description = "Name of the Worker script (wrangler.toml name of this environment)."
  value       = module.cloudflare.script_name
}

output "kv_namespace_id" {
  description = "PREDICTIONS namespace id: copy into this environment's kv_namespaces.id in wrangler.toml."
  value       = module.cloudflare.kv_namespace_id
}

output "r2_bucket_name" {
  description = "MODELS bucket."
  value       = module.cloudflare.r2_bucket_name
}

output "queues" {
  description = "Queue and dead-letter queue (names and ids) per producer binding of wrangler.toml."
  value       = module.cloudflare.queues
}

output "api_url" {
  description = "Base URL of the API."
  value       = module.cloudflare.api_url
}

output "neon_project_id" {
  description = "Neon project id."
  value       = module.neon.project_id
}

output "database_url" {
  description = "Direct Neon connection string: GitHub environment secret DATABASE_URL (migrations, archive)."
  value       = module.neon.database_url
  sensitive   = true
}

output "database_url_pooled" {
  description = "Pooled Neon connection string (-pooler host): Worker secret DATABASE_URL."
  value       = module.neon.database_url_pooled
  sensitive   = true
}

output "lake_bucket_name" {
  description = "S3 data-lake bucket (S3_BUCKET)."
  value       = module.aws.bucket_name
}

output "lake_bucket_region" {
  description = "Region of the data-lake bucket (AWS_REGION)."
  value       = module.aws.bucket_region
}

output "lake_access_key_id" {
  description = "AWS_ACCESS_KEY_ID of the mirror user."
  value       = module.aws.access_key_id
  sensitive   = true
}

output "lake_secret_access_key" {
  description = "AWS_SECRET_ACCESS_KEY of the mirror user."
  value       = module.aws.secret_access_key
  sensitive   = true
}

output "datadog_dashboards" {
  description = "Datadog dashboards of this environment (paths on the Datadog site)."
  value       = module.observability.dashboard_urls
}

output "datadog_monitors" {
  description = "Datadog monitor ids by name."
  value       = module.observability.monitor_ids
}
