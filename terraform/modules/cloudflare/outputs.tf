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

output "queues" {
  description = "Per producer binding: the queue and its dead-letter queue, names (as in wrangler.toml) and ids (what the Cloudflare API's queue endpoints take, e.g. to inspect or purge a dead-letter queue)."
  value = {
    for binding, queue in cloudflare_queue.queue : binding => {
      queue_name             = queue.queue_name
      queue_id               = queue.id
      dead_letter_queue_name = cloudflare_queue.dead_letter[binding].queue_name
      dead_letter_queue_id   = cloudflare_queue.dead_letter[binding].id
    }
  }
}

output "api_url" {
  description = "Base URL of the API."
  value       = "https://${var.api_hostname}"
}
