package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/s3lake"
)

const lakeHelp = `A lake is a local folder (-lake ./lake) or a bucket: -lake s3://BUCKET or
-lake r2://BUCKET, with credentials from the environment:
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_REGION
  (default us-east-1; "auto" for R2), AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for
  an S3-compatible endpoint (path-style requests); for r2:// also
  CLOUDFLARE_ACCOUNT_ID (or R2_ACCOUNT_ID), whose endpoint is used unless one is set.
`

// openLake returns the bucket a -lake value names.
func openLake(spec string) (lake.Bucket, error) {
	if spec == "" {
		return nil, usageErr("-lake is required")
	}
	scheme, rest, remote := strings.Cut(spec, "://")
	if !remote {
		return lake.Dir(spec), nil
	}
	if scheme != "s3" && scheme != "r2" {
		return nil, usageErr("-lake %q: use a folder, s3://BUCKET or r2://BUCKET", spec)
	}
	if rest == "" || strings.Contains(strings.TrimSuffix(rest, "/"), "/") {
		return nil, usageErr("-lake %q: give a bucket without a prefix (the lake is the whole bucket)", spec)
	}
	name := strings.TrimSuffix(rest, "/")
	if err := s3lake.ValidateBucketName(name); err != nil {
		return nil, usageErr("-lake %q: %v", spec, err)
	}
	region := firstEnv("AWS_REGION", "AWS_DEFAULT_REGION")
	endpoint := firstEnv("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
	if scheme == "r2" {
		if region == "" {
			region = "auto"
		}
		if endpoint == "" {
			acct := firstEnv("CLOUDFLARE_ACCOUNT_ID", "R2_ACCOUNT_ID")
			if acct == "" {
				return nil, usageErr("-lake %q: set CLOUDFLARE_ACCOUNT_ID (or an endpoint in AWS_ENDPOINT_URL_S3)", spec)
			}
			endpoint = "https://" + acct + ".r2.cloudflarestorage.com"
		}
	}
	if region == "" {
		region = "us-east-1"
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return nil, usageErr("-lake %q: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", spec)
	}
	opts := s3.Options{
		Region:                     region,
		Credentials:                credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if endpoint != "" {
		opts.BaseEndpoint = aws.String(endpoint)
		opts.UsePathStyle = true
	}
	return s3lake.New(s3.New(opts), name), nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// isRemote reports whether a -lake value names a bucket.
func isRemote(spec string) bool { return strings.Contains(spec, "://") }

// describeLake names a lake for messages.
func describeLake(spec string) string {
	if isRemote(spec) {
		return spec
	}
	return fmt.Sprintf("folder %s", spec)
}
