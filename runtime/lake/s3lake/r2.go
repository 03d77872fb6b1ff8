package s3lake

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewR2Client returns an S3 client for the Cloudflare R2 account accountID,
// authenticated with an R2 API token's access key pair: region "auto",
// endpoint https://{accountID}.r2.cloudflarestorage.com, and checksums only
// when an operation requires them (R2 rejects the SDK's default CRC32
// trailers). For a jurisdiction-specific endpoint build the client with
// s3.New as the package documentation describes.
func NewR2Client(accountID, accessKeyID, secretAccessKey string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "auto",
		BaseEndpoint:               aws.String("https://" + accountID + ".r2.cloudflarestorage.com"),
		Credentials:                credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}
