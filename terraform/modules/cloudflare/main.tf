# Cloudflare resources of one environment. Ownership is split with wrangler on purpose:
# - Terraform creates every resource the Worker binds to, plus the script itself (a placeholder that
#   declares the same bindings and the Durable Object migration), so the route, cron triggers and queue
#   consumers have a script to attach to on the very first apply.
# - `wrangler deploy --env <env>` owns the code and the bindings from then on. The script's content and
#   bindings are therefore in ignore_changes; the names Terraform creates and the names wrangler.toml binds
#   are kept equal by test/node/terraform-consistency.test.ts.

locals {
  route_pattern = "${var.api_hostname}/*"
  host_expr     = "(http.host eq \"${var.api_hostname}\")"

  # Cloudflare Managed Ruleset and the Cloudflare OWASP Core Ruleset (fixed, account-independent ids).
  cloudflare_managed_ruleset_id = "efb7b8c949ac4650a09736fc376e9aee"
  owasp_managed_ruleset_id      = "4814384a9e5d4991b9815dcfc25d2f1f"
}

resource "cloudflare_workers_kv_namespace" "predictions" {
  account_id = var.account_id
  title      = var.kv_namespace_title
}

resource "cloudflare_r2_bucket" "models" {
  account_id = var.account_id
  name       = var.r2_bucket_name
  location   = var.r2_location
}

# One queue, one dead-letter queue and one consumer per entry of var.queues, keyed by the producer binding,
# so adding a queue to wrangler.toml is one map entry here and never renames an existing resource.
resource "cloudflare_queue" "queue" {
  for_each   = var.queues
  account_id = var.account_id
  queue_name = each.value.queue_name
}

resource "cloudflare_queue" "dead_letter" {
  for_each   = var.queues
  account_id = var.account_id
  queue_name = each.value.dead_letter_queue_name
}

# The feature-recompute queue existed before var.queues: these keep its state (and the live queue, with its
# messages) at the new addresses instead of planning a destroy and a create. Safe to drop once every
# environment has applied them.
moved {
  from = cloudflare_queue.feature_recompute
  to   = cloudflare_queue.queue["FEATURE_QUEUE"]
}

moved {
  from = cloudflare_queue.feature_recompute_dlq
  to   = cloudflare_queue.dead_letter["FEATURE_QUEUE"]
}

moved {
  from = cloudflare_queue_consumer.feature_recompute
  to   = cloudflare_queue_consumer.api["FEATURE_QUEUE"]
}

resource "cloudflare_workers_script" "api" {
  account_id          = var.account_id
  script_name         = var.script_name
  main_module         = "placeholder.mjs"
  compatibility_date  = var.compatibility_date
  compatibility_flags = ["nodejs_compat"]

  # Exports the Durable Object classes so the migration below can create them; the real Worker replaces
  # this on the first `wrangler deploy`.
  content = <<-EOT
    import { DurableObject } from "cloudflare:workers";
    export class RateLimiter extends DurableObject {}
    export class MatchOdds extends DurableObject {}
    export default { fetch() { return new Response("not deployed yet", { status: 503 }); } };
  EOT

  bindings = concat(
    [
      {
        type         = "kv_namespace"
        name         = var.kv_binding
        namespace_id = cloudflare_workers_kv_namespace.predictions.id
      },
      {
        type        = "r2_bucket"
        name        = var.r2_binding
        bucket_name = cloudflare_r2_bucket.models.name
      },
    ],
    [
      for binding, queue in cloudflare_queue.queue : {
        type       = "queue"
        name       = binding
        queue_name = queue.queue_name
      }
    ],
    [
      for binding, class_name in var.durable_objects : {
        type       = "durable_object_namespace"
        name       = binding
        class_name = class_name
      }
    ],
  )

  migrations = {
    new_tag            = var.durable_object_migration_tag
    new_sqlite_classes = values(var.durable_objects)
  }

  lifecycle {
    # wrangler deploy owns the code, the bindings and the migration state after the first apply.
    ignore_changes = [content, main_module, bindings, migrations, compatibility_date, compatibility_flags]
  }
}

resource "cloudflare_queue_consumer" "api" {
  for_each          = var.queues
  account_id        = var.account_id
  queue_id          = cloudflare_queue.queue[each.key].id
  script_name       = cloudflare_workers_script.api.script_name
  type              = "worker"
  dead_letter_queue = cloudflare_queue.dead_letter[each.key].queue_name
  settings = {
    batch_size       = each.value.consumer.max_batch_size
    max_retries      = each.value.consumer.max_retries
    max_wait_time_ms = each.value.consumer.max_batch_timeout * 1000
  }
}

resource "cloudflare_workers_cron_trigger" "api" {
  account_id  = var.account_id
  script_name = cloudflare_workers_script.api.script_name
  schedules   = [for cron in var.cron_schedules : { cron = cron }]
}

resource "cloudflare_workers_route" "api" {
  zone_id = var.zone_id
  pattern = local.route_pattern
  script  = cloudflare_workers_script.api.script_name
}

# Zone entry-point ruleset of the managed WAF phase. A zone has one per phase: if the zone already has
# one (made in the dashboard), import it first (terraform/README.md).
resource "cloudflare_ruleset" "waf_managed" {
  zone_id     = var.zone_id
  name        = "senzu managed WAF"
  description = "Cloudflare Managed and OWASP Core rulesets in front of ${var.api_hostname}"
  kind        = "zone"
  phase       = "http_request_firewall_managed"

  rules = [
    {
      ref         = "senzu_cloudflare_managed"
      description = "Cloudflare Managed Ruleset on the API hostname"
      expression  = local.host_expr
      action      = "execute"
      enabled     = true
      action_parameters = {
        id = local.cloudflare_managed_ruleset_id
      }
    },
    {
      ref         = "senzu_owasp_core"
      description = "Cloudflare OWASP Core Ruleset on the API hostname"
      expression  = local.host_expr
      action      = "execute"
      enabled     = true
      action_parameters = {
        id = local.owasp_managed_ruleset_id
      }
    },
  ]
}

resource "cloudflare_ruleset" "rate_limit" {
  zone_id     = var.zone_id
  name        = "senzu edge rate limit"
  description = "Per-IP backstop for ${var.api_hostname}; per-tier limits are enforced exactly by the RateLimiter DO"
  kind        = "zone"
  phase       = "http_ratelimit"

  rules = [
    {
      ref         = "senzu_api_per_ip"
      description = "Block an IP that exceeds the edge backstop on the API hostname"
      expression  = local.host_expr
      action      = "block"
      enabled     = true
      ratelimit = {
        characteristics     = ["cf.colo.id", "ip.src"]
        period              = var.edge_rate_limit.period
        requests_per_period = var.edge_rate_limit.requests_per_period
        mitigation_timeout  = var.edge_rate_limit.mitigation_timeout
      }
    },
  ]
}
