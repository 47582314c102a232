variable "project_name" {
  description = "Neon project name, one project per environment."
  type        = string
}

variable "region_id" {
  description = "Neon region, close to the Cloudflare colos that serve most traffic (e.g. aws-eu-central-1)."
  type        = string
  default     = "aws-eu-central-1"
}

variable "pg_version" {
  description = "Postgres major version (the migrations need 15 or later for NULLS NOT DISTINCT)."
  type        = number
  default     = 16
}

variable "history_retention_seconds" {
  description = "Point-in-time restore window of the project (the forward-only migrations' safety net)."
  type        = number
  default     = 604800
}

variable "branch_name" {
  description = "Branch the Worker uses, created from the project's default branch."
  type        = string
  default     = "app"
}

variable "database_name" {
  description = "Database the migrations and the Worker use."
  type        = string
  default     = "senzu"
}

variable "role_name" {
  description = "Role that owns the database; the Worker and `npm run db:migrate` connect as it."
  type        = string
  default     = "senzu_app"
}

variable "autoscaling_max_cu" {
  description = "Upper autoscaling limit of the branch's read-write endpoint, in compute units."
  type        = number
  default     = 1
}
