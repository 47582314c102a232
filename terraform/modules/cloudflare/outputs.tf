output "script_name" {
  description = "Name of the Worker script."
  value       = cloudflare_workers_script.api.script_name
}

output "kv_namespace_id" {
  description = "Id of the PREDICTIONS namespace: put it into the environment's kv_namespaces.id in wrangler.toml."
  value       = cloudflare_workers_kv_namespace.predictions.id
}

output "r2_bucket_name" {
  description = "Name of the MODELS bucket."
  value       = cloudflare_r2_bucket.models.name
}

output "queue_name" {
  description = "Name of the feature-recompute queue."
  value       = cloudflare_queue.feature_recompute.queue_name
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue."
  value       = cloudflare_queue.feature_recompute_dlq.queue_name
}

output "api_url" {
  description = "Base URL of the API."
  value       = "https://${var.api_hostname}"
}
