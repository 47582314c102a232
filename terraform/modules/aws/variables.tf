variable "bucket_name" {
  description = "Globally unique name of the S3 data-lake bucket (mirror of the R2 artifacts, Parquet exports of expired partitions)."
  type        = string
}

variable "iam_user_name" {
  description = "IAM user whose access key the Worker and the CLIs use for the mirror; its policy covers this bucket only."
  type        = string
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept before it expires."
  type        = number
  default     = 90
}

variable "archive_transition_days" {
  description = "Days after which Parquet exports under archive/ move to Glacier Instant Retrieval."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
