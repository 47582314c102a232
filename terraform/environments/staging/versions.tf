terraform {
  required_version = ">= 1.6.0"

  required_providers {
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.0"
    }
    neon = {
      source  = "kislerdm/neon"
      version = "~> 0.13"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    datadog = {
      source  = "DataDog/datadog"
      version = "~> 3.40"
    }
    pagerduty = {
      source  = "PagerDuty/pagerduty"
      version = "~> 3.15"
    }
  }

  # State lives in S3 with a DynamoDB lock table (terraform/README.md, "State"). The values come from
  # backend.hcl at init time: terraform init -backend-config=backend.hcl
  # CI validates with terraform init -backend=false, which skips this block.
  backend "s3" {}
}

provider "cloudflare" {
  # CLOUDFLARE_API_TOKEN from the environment.
}

provider "neon" {
  # NEON_API_KEY from the environment.
}

provider "aws" {
  region = var.aws_region
  # AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of an operator, not the mirror user.
  default_tags {
    tags = local.tags
  }
}

provider "datadog" {
  # DD_API_KEY, DD_APP_KEY and DD_HOST (the Datadog site's API host, e.g. https://api.datadoghq.eu/) from the environment.
}

provider "pagerduty" {
  # PAGERDUTY_TOKEN from the environment.
}
