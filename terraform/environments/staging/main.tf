# Staging: the whole stack, in its own Cloudflare account, Neon project and S3 bucket.
# The names below are the contract with wrangler.toml [env.staging]; test/node/terraform-consistency.test.ts
# fails when they drift apart.

locals {
  environment = "staging"
  tags = {
    project     = "senzu"
    environment = local.environment
    managed_by  = "terraform"
  }
}

module "cloudflare" {
  source = "../../modules/cloudflare"

  account_id         = var.cloudflare_account_id
  zone_id            = var.cloudflare_zone_id
  api_hostname       = var.api_hostname
  script_name        = "senzu-api-staging"
  compatibility_date = "2026-04-20"
  kv_namespace_title = var.kv_namespace_title

  kv_binding     = "PREDICTIONS"
  r2_binding     = "MODELS"
  r2_bucket_name = "senzu-models"

  queues = {
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

  durable_objects = {
    RATE_LIMITER = "RateLimiter"
    MATCH_ODDS   = "MatchOdds"
  }
  durable_object_migration_tag = "v1"

  cron_schedules = ["*/5 * * * *", "0 * * * *", "30 3 * * *"]

  # Staging takes test traffic from few addresses (CI, benchmarks): a looser backstop.
  edge_rate_limit = {
    requests_per_period = 1000
    period              = 10
    mitigation_timeout  = 10
  }
}

module "neon" {
  source = "../../modules/neon"

  project_name       = "senzu-staging"
  region_id          = var.neon_region_id
  branch_name        = "app"
  database_name      = "senzu"
  role_name          = "senzu_app"
  autoscaling_max_cu = 1
}

module "aws" {
  source = "../../modules/aws"

  bucket_name   = var.lake_bucket_name
  iam_user_name = "senzu-staging-lake-mirror"
  tags          = local.tags
}

# Nothing in staging wakes anyone: with no escalation policy, what pages in production goes to the warning
# channel here.
module "observability" {
  source = "../../modules/observability"

  environment     = local.environment
  service         = "senzu-api"
  runbook_url     = var.runbook_url
  warning_channel = var.warning_channel

  provider_monthly_credits = var.odds_api_monthly_credits
  # max_retries of the senzu-prediction-writes consumer in wrangler.toml (checked by the consistency test).
  prediction_queue_max_retries = 10
}
