output "bucket_name" {
  description = "Name of the data-lake bucket (S3_BUCKET)."
  value       = aws_s3_bucket.lake.bucket
}

output "bucket_arn" {
  description = "ARN of the data-lake bucket."
  value       = aws_s3_bucket.lake.arn
}

output "bucket_region" {
  description = "Region of the bucket (AWS_REGION)."
  value       = aws_s3_bucket.lake.region
}

output "iam_user_name" {
  description = "The mirror's IAM user."
  value       = aws_iam_user.mirror.name
}

output "access_key_id" {
  description = "AWS_ACCESS_KEY_ID of the mirror user."
  value       = aws_iam_access_key.mirror.id
  sensitive   = true
}

output "secret_access_key" {
  description = "AWS_SECRET_ACCESS_KEY of the mirror user."
  value       = aws_iam_access_key.mirror.secret
  sensitive   = true
}
